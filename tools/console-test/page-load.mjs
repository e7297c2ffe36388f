// `make bench`'s console figure: how long an execution's page takes to load
// in Debian's Chromium (headless), from navigation to the graph drawn and
// every event in the table. Prints one JSON line: the loads in milliseconds.
// ORDERFLOW_PAGE is the page's URL, ROWS the table rows it must show (SELECTOR, by default an
// execution's events), LOADS how many loads.
import { chromium } from 'playwright-core';

const url = process.env.ORDERFLOW_PAGE;
const rows = Number(process.env.ROWS);
const selector = process.env.SELECTOR || 'table.events > tbody > tr';
const loads = Number(process.env.LOADS || 15);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const times = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  for (let i = 0; i < loads + 2; i++) {
    const start = Date.now();
    await page.goto(url);
    await page.waitForSelector('#graph svg .node');
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length >= n, [selector, rows], { polling: 'raf' });
    // The first two warm the browser's caches, as a user's second visit would be.
    if (i >= 2) times.push(Date.now() - start);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ loads: times }));
