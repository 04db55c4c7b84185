import { test as base, expect } from "@playwright/test";

/**
 * `test` for every spec: fails the test when the browser reports a Content-Security-Policy
 * violation on any page of its context (the console message Chromium prints, and the
 * `securitypolicyviolation` event, which also catches reports without a console line).
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ context }, use) => {
      const violations: string[] = [];
      await context.exposeBinding("__reportCspViolation", (_source, text: string) => {
        violations.push(text);
      });
      await context.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (event) => {
          const report = (window as unknown as { __reportCspViolation: (t: string) => void })
            .__reportCspViolation;
          report(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
        });
      });
      context.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await use(violations);
      expect(violations, "CSP violations reported by the browser").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
