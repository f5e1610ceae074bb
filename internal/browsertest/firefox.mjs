// Firefox for the Go browser tests (firefox.go): puppeteer-core drives
// Firefox ESR over WebDriver BiDi, and this script lets Go drive it in
// turn, one JSON request per line on stdin, one answer per line on stdout:
//
//   {"id": 1, "op": "navigate", "arg": "http://127.0.0.1:1234/"}
//   {"id": 2, "op": "eval", "arg": "document.title"}     -> {"id": 2, "result": "..."}
//   {"id": 3, "op": "screenshot", "arg": "/path/shot.png"}
//   {"id": 4, "op": "errors"}                            -> the console errors so far
//
// Usage: node firefox.mjs NODE_MODULES_DIR FIREFOX PREFS_JSON
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const [modules, executablePath, prefs] = process.argv.slice(2);
const puppeteer = createRequire(`${modules}/`)('puppeteer-core');

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath,
  headless: true,
  extraPrefsFirefox: JSON.parse(prefs || '{}'),
  defaultViewport: { width: 1200, height: 900 },
});
const page = (await browser.pages())[0] ?? (await browser.newPage());
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e?.message ?? e)));

const ops = {
  navigate: (url) => page.goto(url, { waitUntil: 'load' }).then(() => null),
  eval: (expr) => page.evaluate(expr),
  screenshot: (path) => page.screenshot({ path, fullPage: true }).then(() => null),
  errors: () => errors,
};

const answer = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
answer({ id: 0, result: await browser.version() }); // ready
for await (const line of createInterface({ input: process.stdin })) {
  const { id, op, arg } = JSON.parse(line);
  try {
    const result = await ops[op](arg);
    answer({ id, result: result === undefined ? null : result });
  } catch (e) {
    answer({ id, error: String(e?.message ?? e) });
  }
}
await browser.close();
