/**
 * `npm run experiment:report`: the A/B experiments of the event log, per experiment and arm,
 * with each arm's lift over the control and a sample-ratio check (experiment-report.ts).
 *
 *   npm run experiment:report -- [--dir D] [--experiment ID] [--control ARM] [--html FILE] [--json]
 *
 *   --dir D          the events folder (default BIDDER_EVENTS_DIR, else events/ under the project)
 *   --experiment ID  only this experiment
 *   --control ARM    this arm is the control (default: the arm the exposure records flag)
 *   --html FILE      also write the report as one self-contained HTML page
 *   --json           print the report as one JSON document instead of text
 *
 * Exit status: 0 reported (a sample-ratio mismatch included: it is a finding, shown in the
 * report), 1 the log cannot be read or holds no such experiment or control arm, 2 usage.
 * Messages on stderr start with a stable code (EXPERIMENT_REPORT_ERRORS, and the event
 * reader's EVENTS_* codes).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../config/config';
import { EventFileError, forEachEventRecord } from '../events/event-file';
import { ExperimentReportBuilder } from './experiment-report';
import { renderHtmlReport } from './experiment-report-html';
import { formatReport, printable } from './experiment-report-text';

export const EXPERIMENT_REPORT_ERRORS = {
  /** Arguments the command does not take. */
  EXPERIMENTS_USAGE: 'bad arguments',
  /** --experiment names an experiment with no record in the log. */
  EXPERIMENTS_UNKNOWN_EXPERIMENT: 'no records of that experiment',
  /** --control names an arm no reported experiment has. */
  EXPERIMENTS_UNKNOWN_CONTROL: 'no experiment has that arm',
  /** The --html file cannot be written. */
  EXPERIMENTS_HTML_UNWRITABLE: 'the HTML report cannot be written',
} as const satisfies Record<string, string>;

export type ExperimentReportErrorCode = keyof typeof EXPERIMENT_REPORT_ERRORS;

const kUsage = 'usage: npm run experiment:report -- [--dir D] [--experiment ID] [--control ARM] [--html FILE] [--json]';

export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  err: (line: string) => void = (l) => process.stderr.write(l + '\n'), now: () => Date = () => new Date()): Promise<number> {
  const fail = (code: ExperimentReportErrorCode, detail: string): number => {
    err(`${code}: ${EXPERIMENT_REPORT_ERRORS[code]}: ${printable(detail)}`);
    return code === 'EXPERIMENTS_USAGE' ? 2 : 1;
  };
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' }, experiment: { type: 'string' }, control: { type: 'string' }, html: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    err(`EXPERIMENTS_USAGE: ${(e as Error).message}`);
    err(kUsage);
    return 2;
  }
  if (args.help === true) {
    out(kUsage);
    return 0;
  }
  for (const k of ['experiment', 'control', 'html', 'dir'] as const) {
    if (args[k] === '') return fail('EXPERIMENTS_USAGE', `--${k} must not be empty`);
  }
  const dir = resolve(args.dir ?? process.env.BIDDER_EVENTS_DIR ?? resolve(projectRoot(), 'events'));
  const builder = new ExperimentReportBuilder();
  try {
    forEachEventRecord(dir, (r) => builder.add(r), err);
  } catch (e) {
    if (e instanceof EventFileError) {
      err(`${e.code}: ${printable(e.message)}`);
      return 1;
    }
    throw e;
  }
  const experiments = builder.report({ experimentId: args.experiment, controlArmId: args.control });
  const counts = builder.counts;
  if (args.experiment !== undefined && experiments.length === 0) return fail('EXPERIMENTS_UNKNOWN_EXPERIMENT', args.experiment);
  if (args.control !== undefined && !experiments.some((e) => e.controlSource === 'option')) return fail('EXPERIMENTS_UNKNOWN_CONTROL', args.control);
  if (args.html !== undefined) {
    const path = resolve(args.html);
    try {
      writeFileSync(path, renderHtmlReport(experiments, { dir, generatedAt: now().toISOString(), counts }));
    } catch (e) {
      return fail('EXPERIMENTS_HTML_UNWRITABLE', `${path}: ${(e as Error).message}`);
    }
  }
  if (args.json === true) out(JSON.stringify({ dir, counts, experiments }, null, 2));
  else for (const line of formatReport(experiments, counts)) out(line);
  return 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
