import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator } from 'playwright-core';

/** Debian's chromium, driven by playwright-core; headless, with no background traffic off this machine. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** An element as code evaluated in the page uses it: the test program itself is not typed against the DOM. */
interface PageElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  textContent: string | null;
}

/** The value of attribute `name` of every element `locator` matches, in document order. */
export function attributesOf(locator: Locator, name: string): Promise<(string | null)[]> {
  return locator.evaluateAll((els, n) => els.map((e) => (e as unknown as PageElement).getAttribute(n)), name);
}

/** For every element `locator` matches, the text of its first descendant matching `selector` ('' if none). */
export function descendantTextsOf(locator: Locator, selector: string): Promise<string[]> {
  return locator.evaluateAll(
    (els, s) => els.map((e) => (e as unknown as PageElement).querySelector(s)?.textContent ?? ''),
    selector,
  );
}
