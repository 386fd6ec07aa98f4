// Cron schedules: five-field expressions (and the @hourly…@yearly shorthands) read in UTC or an IANA
// time zone, through cron-parser; the slots a scheduler claims are the schedule's times. Pure.
import { CronExpressionParser } from 'cron-parser';

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Why `expr` is not a schedule Solum runs, or undefined when it is one. */
export function checkSchedule(expr: string): string | undefined {
  const text = expr.trim();
  if (text.startsWith('@')) return MACROS.has(text) ? undefined : `${JSON.stringify(text)} is not a schedule (use five fields, or one of ${[...MACROS].join(', ')})`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `${JSON.stringify(text.slice(0, 60))} has ${fields.length} fields: a schedule has five (minute hour day-of-month month day-of-week)`;
  try {
    CronExpressionParser.parse(text, { tz: 'UTC', strict: false });
  } catch (err) {
    return `${JSON.stringify(text.slice(0, 60))}: ${(err as Error).message}`;
  }
  return undefined;
}

/** Whether `zone` is an IANA time zone this Node knows (UTC included). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The latest time of the schedule at or before `now`: the slot that is due now. */
export function latestSlot(expr: string, zone: string, now: Date): Date {
  // cron-parser's prev() is strictly before its current date: start a millisecond after now.
  return CronExpressionParser.parse(expr.trim(), { tz: zone, currentDate: new Date(now.getTime() + 1) }).prev().toDate();
}

/** The first time of the schedule after `now`. */
export function nextSlot(expr: string, zone: string, now: Date): Date {
  return CronExpressionParser.parse(expr.trim(), { tz: zone, currentDate: now }).next().toDate();
}
