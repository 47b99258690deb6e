/** The bundle's size target (issue 14), declared once: `npm run bench` prints it, test/e2e/bundle.test.ts holds it. */
export const BUNDLE_MAX_BYTES = 300_000;
