// n8n's verification scan, offline: analyzePackage() of @n8n/scan-community-package on each folder given
// (an unpacked tarball), or with --source on a source folder (package.json, nodes/ and credentials/, as the real
// scan lints the package's folder in its repository). Prints the error count per folder; exits 1 on any error.
import path from 'node:path';
const [scanner, ...args] = process.argv.slice(2);
const { analyzePackage, SOURCE_FILE_PATTERNS } = await import(path.join(scanner, 'node_modules/@n8n/scan-community-package/scanner/scanner.mjs'));
let failed = false;
for (let i = 0; i < args.length; i += 1) {
  const source = args[i] === '--source';
  const dir = path.resolve(source ? args[++i] : args[i]);
  const result = source ? await analyzePackage(dir, SOURCE_FILE_PATTERNS) : await analyzePackage(dir);
  const details = String(result.details ?? '');
  const errors = Number(/(\d+) errors?/.exec(details)?.[1] ?? (result.passed ? 0 : NaN));
  const what = source ? `the source of ${path.basename(dir)}` : `${path.basename(path.dirname(dir))} (tarball)`;
  console.log(`n8n scan of ${what}: ${result.passed ? 'passed' : 'failed'}, ${errors} errors`);
  if (!result.passed) {
    failed = true;
    console.log(details || result.message);
  }
}
process.exit(failed ? 1 : 0);
