import { test as base, expect } from "@playwright/test";

/**
 * `test` for every spec. It fails the test when any page of its context
 * - reports a Content-Security-Policy violation (the console message Chromium prints, and
 *   the `securitypolicyviolation` event, which also catches reports without a console line);
 * - logs a console error, or a warning about hydration (Leptos logs a mismatch between the
 *   server's HTML and the client's view as a warning), or throws an uncaught exception.
 * A test that provokes an error on purpose lists it in `expectedConsoleErrors`.
 */
export const test = base.extend<{
  cspViolations: string[];
  consoleErrors: string[];
  expectedConsoleErrors: RegExp[];
  refusalStatuses: number[];
}>({
  expectedConsoleErrors: [[], { option: true }],
  // Statuses the server answers refusals with, which Chromium logs as failed loads: none in
  // the envelope mode (a refusal is a 200), 400/401/403 in the http mode of auth_errors.
  refusalStatuses: [[], { option: true }],
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
  consoleErrors: [
    async ({ context, expectedConsoleErrors, refusalStatuses }, use) => {
      const errors: string[] = [];
      const refusal = (text: string) =>
        refusalStatuses.some((status) => text.includes(`the server responded with a status of ${status}`));
      const unexpected = (text: string) =>
        !refusal(text) && !expectedConsoleErrors.some((pattern) => pattern.test(text));
      context.on("console", (message) => {
        const text = message.text();
        const counts =
          message.type() === "error" || (message.type() === "warning" && /hydrat/i.test(text));
        if (counts && unexpected(text)) errors.push(`${message.type()}: ${text}`);
      });
      context.on("weberror", (error) => {
        if (unexpected(error.error().message)) errors.push(`uncaught: ${error.error().message}`);
      });
      await use(errors);
      expect(errors, "console errors and hydration warnings in the browser").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
