// Uploads files through a listing page's form in headless Chromium, as a person would:
// open the page, choose the files, press the button. JavaScript is off in the page, so the
// form must work without it. Prints the page reached after the submit, as JSON.
//
// usage: node upload_form.mjs URL SCREENSHOT FILE...
// environment: SANDSERVE_PLAYWRIGHT_DIR (holds node_modules/playwright-core), CHROMIUM
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.SANDSERVE_PLAYWRIGHT_DIR}/`);
const { chromium } = require('playwright-core');

const [url, screenshot, ...files] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  // This machine's closed network: no background connections, no QUIC.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(url);
  await page.setInputFiles('form[enctype="multipart/form-data"] input[type=file]', files);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('form[enctype="multipart/form-data"] button[type=submit]'),
  ]);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({
    url: page.url(),
    status: response ? response.status() : null,
    html: await page.content(),
  }));
} finally {
  await browser.close();
}
