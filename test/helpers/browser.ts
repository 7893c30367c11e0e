import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startPageTestBed, type PageTestBed } from './mail.js';

/** Debian's chromium package (`apt-get install -y chromium`; .ci/run installs it when missing). */
const CHROMIUM = '/usr/bin/chromium';

/** Starts headless Chromium with nothing running in the background (no updates, sync or network of its own). */
async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Saves a screenshot for the README when SCREENSHOT_DIR is set
 * (`SCREENSHOT_DIR=docs/images npx mocha test/pages/...`); a plain run leaves the checkout alone.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`) });
}

/** A page test's browser page and test bed, filled in by the hooks {@link browserPageTests} registers. */
export interface BrowserPageTests {
  bed: PageTestBed;
  page: Page;
}

/**
 * Registers the hooks of a describe block that drives Tessera's pages in
 * Chromium: one test bed (server, mail folder) and one browser for the block,
 * a fresh page for each test. After each test the server's clock is put back,
 * and the test fails if the page broke its own Content-Security-Policy.
 */
export function browserPageTests(): BrowserPageTests {
  const tests = {} as BrowserPageTests;
  let browser: Browser | undefined;
  let cspViolations: string[] = [];
  before(async function () {
    this.timeout(60_000);
    tests.bed = await startPageTestBed();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await tests.bed?.close();
  });
  beforeEach(async () => {
    tests.page = await browser!.newPage();
    cspViolations = [];
    tests.page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
  });
  afterEach(async () => {
    await tests.page.close();
    tests.bed.server.clock.reset();
    expect(cspViolations, 'the page breaks its own Content-Security-Policy').to.deep.equal([]);
  });
  return tests;
}
