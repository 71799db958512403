//! One request's run through a guest instance, and what becomes of the instance afterwards.
//!
//! The call is not a task of its own: whoever waits for the response drives it, first the
//! request future until the guest hands over a response head, then the response body while
//! the guest streams. A small response is therefore answered, and its instance back in the
//! idle set, within one poll of its connection, before the worker turns to the next one
//! (a spawned task would queue behind every other ready connection, and each of those would
//! need an instance of its own meanwhile). A client that goes away leaves the call to finish
//! in a task of its own (see `Drop for Guest`), so that what the guest started it also ends.
//!
//! Afterwards the instance is kept (see `Guest::keep`) or retired: torn down in a task of its
//! own, after the response has gone out, holding the request's slot until it is gone. An
//! instance that failed is torn down at once instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;

use crate::guest::idle_set::IdleSet;
use crate::guest::instance::{ReusePolicy, Warm};

/// How a call ended: the instance it ran in (if one could be made) and the guest's result.
pub(crate) struct Returned {
    pub(crate) warm: Option<Warm>,
    pub(crate) result: anyhow::Result<()>,
}

/// The guest's `handle`, from taking or making an instance to its return.
pub(crate) type Call = Pin<Box<dyn Future<Output = Returned> + Send>>;

/// One request's call, its slot, and the instance once the call is over.
pub(crate) struct Guest {
    stage: Stage,
    /// The request's share of `--max-concurrent`, held until the instance is back in the
    /// idle set or gone, so the pool never has more instances out than it was sized for.
    slot: Option<OwnedSemaphorePermit>,
    idle: Arc<IdleSet>,
    policy: ReusePolicy,
}

enum Stage {
    Running(Call),
    /// Returned normally and fit for another request, once its response is complete.
    Healthy(Warm),
    /// Returned normally; the instance was retired.
    Returned,
    /// Trapped, ran out of CPU time, or could not be instantiated. The error is taken once.
    Failed(Option<anyhow::Error>),
}

impl Guest {
    pub(crate) fn new(
        call: Call,
        slot: OwnedSemaphorePermit,
        idle: Arc<IdleSet>,
        policy: ReusePolicy,
    ) -> Guest {
        Guest {
            stage: Stage::Running(call),
            slot: Some(slot),
            idle,
            policy,
        }
    }

    /// Runs the guest; ready once it has returned, with whether it returned normally.
    pub(crate) fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let call = match &mut self.stage {
            Stage::Running(call) => call,
            Stage::Healthy(_) | Stage::Returned => return Poll::Ready(Ok(())),
            Stage::Failed(_) => return Poll::Ready(Err(())),
        };
        let Returned { warm, result } = std::task::ready!(call.as_mut().poll(cx));
        let (stage, retired, ended) = match (warm, result) {
            (Some(warm), Ok(())) if warm.reusable(&self.policy) => {
                (Stage::Healthy(warm), None, Ok(()))
            }
            (warm, Ok(())) => (Stage::Returned, warm, Ok(())),
            (warm, Err(error)) => {
                // Torn down here, before the 500 or the cut goes out: a guest that failed
                // may have grown to the memory cap, and that memory is back before anyone
                // sees the failure.
                drop(warm);
                self.slot = None;
                (Stage::Failed(Some(error)), None, Err(()))
            }
        };
        self.stage = stage;
        if let Some(warm) = retired {
            self.retire(warm);
        }
        Poll::Ready(ended)
    }

    /// Why the guest failed, the first time it is asked.
    pub(crate) fn take_error(&mut self) -> Option<anyhow::Error> {
        match &mut self.stage {
            Stage::Failed(error) => error.take(),
            _ => None,
        }
    }

    /// The response is complete: a healthy instance goes back to the idle set, now or, if
    /// the guest is still on its way out of `handle`, as soon as it has returned.
    pub(crate) fn keep(mut self) {
        match std::mem::replace(&mut self.stage, Stage::Returned) {
            Stage::Healthy(warm) => self.idle.put(warm),
            Stage::Running(call) => {
                self.stage = Stage::Running(call);
                spawn_or_drop(async move {
                    let mut guest = self;
                    if std::future::poll_fn(|cx| guest.poll_end(cx)).await.is_ok() {
                        guest.keep();
                    }
                });
            }
            ended => self.stage = ended,
        }
    }

    /// Tears `doomed` down and then gives the slot back. A request alone on the server
    /// leaves it to a task that runs once its response is out, so the client reads while
    /// this thread cleans up; with others in flight that task would queue behind them,
    /// each holding another instance meanwhile (1 KiB at c=64, `--reuse 1`: 55 instead of
    /// 47 us of CPU per request, 51 instead of 17 MiB peak RSS), so it happens here.
    fn retire(&mut self, doomed: impl Send + 'static) {
        let slot = self.slot.take();
        let alone = slot.as_ref().is_some_and(|slot| {
            slot.semaphore().available_permits() + 1 >= self.policy.max_concurrent
        });
        if !alone {
            drop(doomed);
            drop(slot);
            return;
        }
        spawn_or_drop(async move {
            tokio::task::yield_now().await;
            drop(doomed);
            drop(slot);
        });
    }
}

/// How long a call whose client left may go on before it is cancelled after all: longer than
/// the guest's own upload idle timeout (30 s), so a stalled upload ends by itself first.
const ORPHAN_LIMIT: std::time::Duration = std::time::Duration::from_secs(45);

impl Drop for Guest {
    /// The response was not completed (the client left, or the guest failed); no instance is
    /// kept. A call still running is not cancelled mid-step but let run to its end in a task,
    /// holding its slot: the guest then meets the broken body or the closed response and
    /// cleans up as it does for any broken transfer (an upload removes its temporary file;
    /// cancelled, it left the file behind). Its CPU limit still holds, and [`ORPHAN_LIMIT`]
    /// bounds the rest.
    fn drop(&mut self) {
        match std::mem::replace(&mut self.stage, Stage::Returned) {
            Stage::Running(call) => {
                let slot = self.slot.take();
                spawn_or_drop(async move {
                    let _ = tokio::time::timeout(ORPHAN_LIMIT, call).await;
                    drop(slot);
                });
            }
            Stage::Healthy(warm) => self.retire(warm),
            Stage::Returned | Stage::Failed(_) => {}
        }
    }
}

/// Spawns `work` on the current runtime. Outside one (a runtime shutting down) it is
/// dropped instead, which drops what it holds: the instance goes, the slot comes back.
fn spawn_or_drop(work: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(work)),
        Err(_) => drop(work),
    }
}
