/**
 * "Every disabled control says why" (issue 11), checked on the whole page: each disabled button, input, select,
 * textarea or option must carry its reason in a title (its own, or that of an enclosing element such as its label or
 * the disabled fieldset, whose tooltip the browser shows over it) or in the visible text its aria-describedby names.
 */
import { expect, type Page } from '@playwright/test';

/** The disabled controls on the page that give no reason, described as "testid-or-tag: label". */
export async function unexplainedDisabled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const why = (el: Element): boolean => {
      for (let e: Element | null = el; e; e = e.parentElement) {
        if ((e.getAttribute('title') ?? '').trim()) return true;
      }
      const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
      return ids.some((id) => (document.getElementById(id)?.textContent ?? '').trim().length > 0);
    };
    const out: string[] = [];
    for (const el of document.querySelectorAll('button, input, select, textarea, option')) {
      if (!el.matches(':disabled')) continue;
      if (why(el)) continue;
      const label = el.getAttribute('aria-label') ?? el.closest('label')?.textContent ?? el.textContent ?? '';
      out.push(`${el.getAttribute('data-testid') ?? el.tagName.toLowerCase()}: ${label.trim().replace(/\s+/g, ' ').slice(0, 60)}`);
    }
    return out;
  });
}

export async function expectDisabledExplained(page: Page, when: string): Promise<void> {
  expect(await unexplainedDisabled(page), `disabled controls without a reason ${when}`).toEqual([]);
}
