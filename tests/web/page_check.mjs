// The results page in headless Chromium at a URL, for tests that serve it
// from elsewhere (test_nginx: the page behind nginx + nchan). Prints one JSON
// line when the page shows the state at FIRST or later, then another at
// SECOND or later: what the page shows (its data- attributes, the hex
// map's hexes), the connection it says it has, and any error in it. Exit 1 on a timeout.
// Usage: node page_check.mjs NPM_DIR URL FIRST SECOND
import { createRequire } from "node:module";
import path from "node:path";

const [npmDir, url, first, second] = process.argv.slice(2);
const require = createRequire(path.join(npmDir, "package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
});
let status = 0;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  await page.goto(url, { waitUntil: "load" });
  for (const sequence of [Number(first), Number(second)]) {
    await page.waitForFunction((s) => document.body.dataset.ready === "true"
      && Number(document.body.dataset.sequence) >= s && document.querySelectorAll("#hexmap .hex").length > 0,
      sequence, { timeout: 30000 });
    const shown = await page.evaluate(() => ({
      sequence: Number(document.body.dataset.sequence),
      declared: Number(document.getElementById("declared").dataset.declared),
      connection: document.body.dataset.connection,
      stale: document.body.dataset.stale,
      // the hex map, read from the page's own directory
      hexes: document.querySelectorAll("#hexmap .hex").length,
      declaredHexes: document.querySelectorAll('#hexmap .hex[data-state="declared"]').length,
      gains: document.querySelectorAll("#gains li[data-seat]").length
    }));
    console.log(JSON.stringify(Object.assign(shown, { errors })));
  }
} catch (error) {
  console.error("page_check: " + error);
  status = 1;
} finally {
  await browser.close();
}
process.exit(status);
