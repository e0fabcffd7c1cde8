/**
 * Dates as git reads them: a port of git's date.c (2.39) parse_date_basic(), which `git am`
 * uses (through fmt_ident) for the author date of every commit it makes from a mail. Git only
 * counts 1970-2099; two-digit years follow its rules (05 -> 2005, 70..99 -> 19xx, 10..69: no
 * year); a 4-digit number up to 1400 before any zone is a zone (`0001` is +00:01, not a year).
 * A date git cannot read makes git am stop with "invalid date format".
 */

interface Tm {
  /** Years since 1900, -1 when not seen (as struct tm, with git's -1 for "unknown"). */
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
  sec: number;
}

interface State {
  tm: Tm;
  /** Minutes east of UTC, -1 when not seen. */
  offset: number;
  /** The time came as seconds since the epoch (already UTC). */
  gmt: boolean;
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAY_NAMES = ['Sundays', 'Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays'];
/** git's timezone_names: name, hours east, 1 for a summer zone (git adds an hour: "we like summer"). */
const TIMEZONE_NAMES: ReadonlyArray<readonly [string, number, number]> = [
  ['IDLW', -12, 0], ['NT', -11, 0], ['CAT', -10, 0], ['HST', -10, 0], ['HDT', -10, 1], ['YST', -9, 0], ['YDT', -9, 1],
  ['PST', -8, 0], ['PDT', -8, 1], ['MST', -7, 0], ['MDT', -7, 1], ['CST', -6, 0], ['CDT', -6, 1], ['EST', -5, 0],
  ['EDT', -5, 1], ['AST', -3, 0], ['ADT', -3, 1], ['WAT', -1, 0], ['GMT', 0, 0], ['UTC', 0, 0], ['Z', 0, 0],
  ['WET', 0, 0], ['BST', 0, 1], ['CET', 1, 0], ['MET', 1, 0], ['MEWT', 1, 0], ['MEST', 1, 1], ['CEST', 1, 1],
  ['MESZ', 1, 1], ['FWT', 1, 0], ['FST', 1, 1], ['EET', 2, 0], ['EEST', 2, 1], ['WAST', 7, 0], ['WADT', 7, 1],
  ['CCT', 8, 0], ['JST', 9, 0], ['EAST', 10, 0], ['EADT', 10, 1], ['GST', 10, 0], ['NZT', 12, 0], ['NZST', 12, 0],
  ['NZDT', 12, 1], ['IDLE', 12, 0],
];
const MDAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const U64_MAX = (1n << 64n) - 1n;
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

const isDigitAt = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
};
const isAlphaAt = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i) | 0x20;
  return c >= 0x61 && c <= 0x7a;
};
const isAlnum = (c: string): boolean => isAlphaAt(c, 0) || isDigitAt(c, 0);
const upper = (c: string): string => (c >= 'a' && c <= 'z' ? c.toUpperCase() : c);
/** C casts: a 64-bit value taken as int / long. */
const int32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const long64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** C strto(u)l/strtoumax in base 10 from `at`: value (clamped as C clamps) and end; end = at when no digits. */
function strtonum(s: string, at: number, kind: 'long' | 'ulong'): { value: bigint; end: number } {
  let i = at;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  const digits = i;
  while (isDigitAt(s, i)) i++;
  if (i === digits) return { value: 0n, end: at };
  // up to 15 digits a double is exact (and BigInt's parse is the slow part)
  let value = i - digits <= 15 ? BigInt(Number(s.slice(digits, i))) : BigInt(s.slice(digits, i));
  if (kind === 'long') {
    if (negative) value = -value;
    value = value > LONG_MAX ? LONG_MAX : value < LONG_MIN ? LONG_MIN : value;
  } else {
    if (value > U64_MAX) value = U64_MAX;
    else if (negative) value = BigInt.asUintN(64, -value);
  }
  return { value, end: i };
}

/** git's match_string(): how many chars of `s` at `at` match `name` (case-insensitively) up to a non-alnum; 0 on a clash. */
function matchString(s: string, at: number, name: string): number {
  let i = 0;
  for (; at + i < s.length; i++) {
    const c = s[at + i]!;
    const n = name[i];
    if (n !== undefined && (c === n || upper(c) === upper(n))) continue;
    if (!isAlnum(c)) break;
    return 0;
  }
  return i;
}

/** tm_to_time_t(): seconds since the epoch of a UTC tm, -1 outside 1970-2099 or without a time. */
function tmToTime(tm: Tm): number {
  const year = tm.year - 70;
  const month = tm.mon;
  let day = tm.mday;
  if (year < 0 || year > 129) return -1;
  if (month < 0 || month > 11) return -1;
  if (month < 2 || (year + 2) % 4) day--;
  if (tm.hour < 0 || tm.min < 0 || tm.sec < 0) return -1;
  return (year * 365 + Math.floor((year + 1) / 4) + MDAYS[month]! + day) * 86400 + tm.hour * 3600 + tm.min * 60 + tm.sec;
}

function nodate(tm: Tm): boolean {
  return tm.year < 0 && tm.mon < 0 && tm.mday < 0 && tm.hour < 0 && tm.min < 0 && tm.sec < 0;
}

/** glibc's gmtime_r() of a 64-bit time_t; false when the year does not fit struct tm. */
function gmtime(t: bigint, tm: Tm): boolean {
  const days = t >= 0n ? t / 86400n : -((-t + 86399n) / 86400n);
  const secs = Number(t - days * 86400n);
  // civil_from_days (H. Hinnant), in BigInt: any 64-bit time
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
  // glibc fills the time and a truncated year before it finds that the year does not fit
  Object.assign(tm, { hour: Math.floor(secs / 3600), min: Math.floor((secs % 3600) / 60), sec: secs % 60, year: int32(y - 1900n) });
  if (y - 1900n !== BigInt(tm.year)) return false;
  Object.assign(tm, { mon: Number(m) - 1, mday: Number(d) });
  return true;
}

function setTime(hour: bigint, minute: bigint, second: bigint, tm: Tm): boolean {
  // the 61st second is a leap second
  if (hour < 0n || hour > 24n || minute < 0n || minute >= 60n || second < 0n || second > 60n) return false;
  Object.assign(tm, { hour: Number(hour), min: Number(minute), sec: Number(second) });
  return true;
}

/** set_date(): 0 when year/month/day (C ints) make a date; with `now` (seconds) a date more than ten days ahead is refused. */
function setDate(year: number, month: number, day: number, now: number | undefined, tm: Tm): number {
  if (!(month > 0 && month < 13 && day > 0 && day < 32)) return -1;
  const r = now === undefined ? tm : { ...tm };
  r.mon = month - 1;
  r.mday = day;
  if (year === -1) {
    if (now === undefined) return 1;
    r.year = new Date(now * 1000).getUTCFullYear() - 1900;
  } else if (year >= 1970 && year < 2100) r.year = year - 1900;
  else if (year > 70 && year < 100) r.year = year;
  else if (year < 38) r.year = year + 100;
  else return -1;
  if (now === undefined) return 0;
  const specified = tmToTime(r);
  if (specified !== -1 && now + 10 * 86400 < specified) return -1;
  tm.mon = r.mon;
  tm.mday = r.mday;
  if (year !== -1) tm.year = r.year;
  return 0;
}

/** match_multi_number(): `hh:mm[:ss]` or a date with `-`, `/` or `.`; 0 when it is neither. */
function matchMultiNumber(num: bigint, sep: string, s: string, at: number, afterNum: number, tm: Tm): number {
  const two = strtonum(s, afterNum + 1, 'long');
  const num2 = two.value;
  let end = two.end;
  let num3 = -1n;
  if (s[end] === sep && isDigitAt(s, end + 1)) {
    const three = strtonum(s, end + 1, 'long');
    num3 = three.value;
    end = three.end;
  }
  if (sep === ':') {
    if (num3 < 0n) num3 = 0n;
    if (!setTime(long64(num), num2, num3, tm)) return 0;
    // a fraction of a second after a known date
    if (s[end] === '.' && isDigitAt(s, end + 1) && tm.year !== -1 && tm.mon !== -1 && tm.mday !== -1) end = strtonum(s, end + 1, 'long').end;
    return end - at;
  }
  const now = Math.floor(Date.now() / 1000);
  const [n1, n2, n3] = [int32(num), int32(num2), int32(num3)];
  const found =
    (num > 70n && (setDate(n1, n2, n3, undefined, tm) === 0 || setDate(n1, n3, n2, undefined, tm) === 0)) ||
    (sep !== '.' && setDate(n3, n1, n2, now, tm) === 0) ||
    setDate(n3, n2, n1, now, tm) === 0 ||
    (sep === '.' && setDate(n3, n1, n2, now, tm) === 0);
  return found ? end - at : 0;
}

/** match_digit(): a number, and what git guesses it is from its digits and what is already known. */
function matchDigit(s: string, at: number, st: State): number {
  const { tm } = st;
  const parsed = strtonum(s, at, 'ulong');
  const num = parsed.value;
  let end = parsed.end;
  // seconds since 1970 (more than 8 digits), when nothing else is known yet
  if (num >= 100000000n && nodate(tm) && gmtime(long64(num), tm)) {
    st.gmt = true;
    return end - at;
  }
  const sep = s[end];
  if ((sep === ':' || sep === '.' || sep === '/' || sep === '-') && isDigitAt(s, end + 1)) {
    const match = matchMultiNumber(num, sep, s, at, end, tm);
    if (match) return match;
  }
  let n = 0;
  do n++;
  while (isDigitAt(s, at + n));
  // compact ISO 8601: YYYYmmDD, HHMMSS
  if (n === 8 || n === 6) {
    const v = Number(BigInt.asUintN(32, num));
    const [v1, v2, v3] = [Math.floor(v / 10000), Math.floor((v % 10000) / 100), v % 100];
    if (n === 8) setDate(v1, v2, v3, undefined, tm);
    else if (setTime(BigInt(v1), BigInt(v2), BigInt(v3), tm) && s[end] === '.' && isDigitAt(s, end + 1)) end = strtonum(s, end + 1, 'ulong').end;
    return end - at;
  }
  const small = Number(num);
  // a four-digit year, or a zone when no zone was seen (git's quirk: 0001 is +00:01)
  if (n === 4) {
    if (small <= 1400 && st.offset === -1) st.offset = Math.floor(small / 100) * 60 + (small % 100);
    else if (small > 1900 && small < 2100) tm.year = small - 1900;
    return n;
  }
  if (n > 2) return n;
  // day of month first: 01 Apr 05 is April 1st, 2005
  if (small > 0 && small < 32 && tm.mday < 0) {
    tm.mday = small;
    return n;
  }
  if (n === 2 && tm.year < 0) {
    if (small < 10 && tm.mday >= 0) {
      tm.year = small + 100;
      return n;
    }
    if (small >= 70) {
      tm.year = small;
      return n;
    }
  }
  if (small > 0 && small < 13 && tm.mon < 0) tm.mon = small - 1;
  return n;
}

/** match_alpha(): a month, a weekday, a zone name, AM/PM; other letters are skipped. */
function matchAlpha(s: string, at: number, st: State): number {
  for (const [i, name] of MONTH_NAMES.entries()) {
    const match = matchString(s, at, name);
    if (match >= 3) {
      st.tm.mon = i;
      return match;
    }
  }
  for (const name of WEEKDAY_NAMES) {
    const match = matchString(s, at, name);
    if (match >= 3) return match;
  }
  for (const [name, hours, dst] of TIMEZONE_NAMES) {
    const match = matchString(s, at, name);
    if (match >= 3 || match === name.length) {
      if (st.offset === -1) st.offset = 60 * (hours + dst);
      return match;
    }
  }
  if (matchString(s, at, 'PM') === 2) {
    st.tm.hour = (st.tm.hour % 12) + 12;
    return 2;
  }
  if (matchString(s, at, 'AM') === 2) {
    st.tm.hour = st.tm.hour % 12;
    return 2;
  }
  let i = 0;
  do i++;
  while (isAlphaAt(s, at + i));
  return i;
}

/** match_tz(): `+hhmm`, `-hh`, `+hh:mm`; anything else is skipped, its digits read. */
function matchTz(s: string, at: number, st: State): number {
  const parsed = strtonum(s, at + 1, 'ulong');
  let end = parsed.end;
  let hour = int32(parsed.value);
  const n = end - (at + 1);
  let min = 0;
  if (n === 4) {
    min = hour % 100;
    hour = Math.trunc(hour / 100);
  } else if (n !== 2) min = 99;
  else if (s[end] === ':') {
    const m = strtonum(s, end + 1, 'ulong');
    min = int32(m.value);
    end = m.end;
    if (end - (at + 1) !== 5) min = 99;
  }
  if (min < 60 && hour < 24) st.offset = (s[at] === '-' ? -1 : 1) * (hour * 60 + min);
  return end - at;
}

/** `@<seconds> <+|-hhmm>`, git's own object header form. */
function objectHeaderDate(s: string): number | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  const stamp = strtonum(s, 0, 'ulong');
  const e = stamp.end;
  if (s[e] !== ' ' || stamp.value === U64_MAX || (s[e + 1] !== '+' && s[e + 1] !== '-')) return undefined;
  const ofs = strtonum(s, e + 2, 'long');
  if ((ofs.end < s.length && s[ofs.end] !== '\n') || ofs.end !== e + 6) return undefined;
  return Number(stamp.value);
}

/** mktime(): the tm read as local time (as git does for a date without a zone). */
function localTime(tm: Tm): number {
  return Math.floor(new Date(tm.year + 1900, tm.mon, tm.mday, tm.hour, tm.min, tm.sec).getTime() / 1000);
}

/** Seconds since the epoch that git gives `date`, or undefined where git says "invalid date format". */
export function gitDateSeconds(date: string): number | undefined {
  if (date.startsWith('@')) {
    const stamp = objectHeaderDate(date.slice(1));
    if (stamp !== undefined) return stamp;
  }
  const st: State = { tm: { year: -1, mon: -1, mday: -1, hour: -1, min: -1, sec: -1 }, offset: -1, gmt: false };
  for (let at = 0; at < date.length && date[at] !== '\n'; ) {
    const c = date[at]!;
    let match = 0;
    if (isAlphaAt(date, at)) match = matchAlpha(date, at, st);
    else if (isDigitAt(date, at)) match = matchDigit(date, at, st);
    else if ((c === '-' || c === '+') && isDigitAt(date, at + 1)) match = matchTz(date, at, st);
    at += match || 1;
  }
  const stamp = tmToTime(st.tm);
  if (stamp === -1) return undefined;
  if (st.offset === -1) {
    const local = localTime(st.tm);
    st.offset = stamp > local ? Math.trunc((stamp - local) / 60) : -Math.trunc((local - stamp) / 60);
  }
  return st.gmt ? stamp : stamp - st.offset * 60;
}

/** The first and last second git's calendar holds (1970-01-01 .. 2099-12-31 UTC). */
const LAST_SECOND = 4102444799;

/** The date as git am would record it, or undefined when git cannot read it (or it falls outside 1970-2099). */
export function parseGitDate(date: string): Date | undefined {
  const seconds = gitDateSeconds(date);
  if (seconds === undefined || seconds < 0 || seconds > LAST_SECOND) return undefined;
  return new Date(seconds * 1000);
}
