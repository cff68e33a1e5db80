/**
 * The event log's stable error codes, in one table (as src/errors.ts is for requests).
 * Callers and scripts match on `code`, never on the message; codes are never renamed.
 */

export const EVENT_LOG_ERRORS = {
  /** A file ends inside a record: the writer stopped mid-write (a crash). A warning; the rest is read. */
  EVENTS_TRUNCATED_RECORD: 'a file ends inside a record',
  /** A frame length no writer produces, or a record that does not decode: the file is damaged. */
  EVENTS_FILE_CORRUPT: 'an event file is damaged',
  /** Bytes that are no well-formed EventRecord flatbuffer (decodeEvent). */
  EVENTS_CORRUPT_RECORD: 'a record is not a valid EventRecord',
  /** A record of an EventKind this reader does not know (written by a newer bidder); skipped. */
  EVENTS_UNKNOWN_KIND: 'a record has an unknown kind',
  /** EventLogWriter, ring or sink options out of range. */
  EVENTS_BAD_OPTIONS: 'event log options are invalid',
  /** The events CLI was called with arguments it does not take. */
  EVENTS_USAGE: 'bad arguments',
  /** The events folder does not exist or cannot be read. */
  EVENTS_DIR_UNREADABLE: 'the events folder cannot be read',
} as const satisfies Record<string, string>;

export type EventLogErrorCode = keyof typeof EVENT_LOG_ERRORS;

export class EventLogError extends Error {
  constructor(readonly code: EventLogErrorCode, detail?: string) {
    super(detail === undefined ? EVENT_LOG_ERRORS[code] : `${EVENT_LOG_ERRORS[code]}: ${detail}`);
    this.name = 'EventLogError';
  }
}
