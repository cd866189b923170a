/**
 * How the browser suites start Debian's chromium (installed by `.ci/run`) through playwright-core:
 * headless, and without the background connections this machine's closed network refuses.
 */
export const chromiumLaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
