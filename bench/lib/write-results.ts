/**
 * Writes a suite or gate result as JSON under bench/results/ (a timestamped file and
 * <kind>-latest.json; the suite also as latest.json) and renders the HTML report beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderHtmlReport } from '../report/html-report';
import type { SuiteResults } from './results';

export const RESULTS_DIR = resolve(__dirname, '../../../bench/results');

export function timestamp(iso = new Date().toISOString()): string {
  return iso.replace(/[:.]/g, '-');
}

export function writeResults(kind: 'suite' | 'gate', results: SuiteResults): { json: string; html: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const text = JSON.stringify(results, null, 1);
  const json = join(RESULTS_DIR, `${kind}-${timestamp(results.startedAt)}.json`);
  writeFileSync(json, text);
  writeFileSync(join(RESULTS_DIR, `${kind}-latest.json`), text);
  const htmlText = renderHtmlReport(results);
  const html = join(RESULTS_DIR, kind === 'suite' ? 'latest.html' : 'gate-latest.html');
  if (kind === 'suite') writeFileSync(join(RESULTS_DIR, 'latest.json'), text);
  writeFileSync(html, htmlText);
  return { json, html };
}
