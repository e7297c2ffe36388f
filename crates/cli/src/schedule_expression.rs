//! EventBridge's schedule expressions, in UTC, and when each fires next:
//! `rate(value unit)` (minute, hour or day; the unit singular for 1 and plural
//! otherwise, as EventBridge takes it), counted from when the rule was made;
//! and `cron(minutes hours day-of-month month day-of-week year)` with `*`,
//! lists, ranges, increments, month and weekday names (`1` or `SUN` is
//! Sunday), and `?` in exactly one of the two day fields. `L`, `W` and `#`
//! are refused by name: they do not fire here.

use std::time::Duration;

use time::{Date, OffsetDateTime, Time};

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<Cron>),
}

/// Each field as the set of values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// None: `?`, the day is the day of week's.
    days_of_month: Option<Vec<bool>>,
    months: Vec<bool>,
    /// None: `?`, the day is the day of month's. Index 1 is Sunday.
    days_of_week: Option<Vec<bool>>,
    years: Vec<bool>,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2199;

impl Schedule {
    /// The expression, or why EventBridge would refuse it (or why it does not fire here).
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let invalid = |why: &str| format!("its schedule {expression:?} is not valid: {why}");
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let (value, unit) = inner.trim().split_once(' ').ok_or_else(|| invalid("rate(value unit)"))?;
            let value: u64 =
                value.parse().ok().filter(|v| *v > 0).ok_or_else(|| invalid("the value is a whole number above 0"))?;
            let seconds = match (unit.trim(), value) {
                ("minute", 1) | ("minutes", 2..) => 60,
                ("hour", 1) | ("hours", 2..) => 3600,
                ("day", 1) | ("days", 2..) => 86_400,
                _ => return Err(invalid("the unit is minute, hour or day, plural for a value above 1")),
            };
            return Ok(Schedule::Rate(Duration::from_secs(value * seconds)));
        }
        let inner = expression
            .strip_prefix("cron(")
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| invalid("rate(...) or cron(...)"))?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields[..] else {
            return Err(invalid("cron takes six fields: minutes hours day-of-month month day-of-week year"));
        };
        let field = |text: &str, low: i32, high: i32, names: &[&str], first_name: i32| {
            values(text, low, high, names, first_name).map_err(|why| invalid(&why))
        };
        let day = |text: &str, low, high, names: &[&str]| match text {
            "?" => Ok(None),
            _ => field(text, low, high, names, low).map(Some),
        };
        let (days_of_month, days_of_week) = (day(dom, 1, 31, &[])?, day(dow, 1, 7, &WEEKDAYS)?);
        if days_of_month.is_some() == days_of_week.is_some() {
            return Err(invalid("one of day-of-month and day-of-week must be ?, and only one"));
        }
        Ok(Schedule::Cron(Box::new(Cron {
            minutes: field(minutes, 0, 59, &[], 0)?,
            hours: field(hours, 0, 23, &[], 0)?,
            days_of_month,
            months: field(month, 1, 12, &MONTHS, 1)?,
            days_of_week,
            years: field(year, FIRST_YEAR, LAST_YEAR, &[], FIRST_YEAR)?,
        })))
    }

    /// When it fires next, strictly after `after`; a rate counts from `since`.
    /// None when a cron expression never fires again.
    pub fn next_after(&self, after: OffsetDateTime, since: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Schedule::Rate(period) => {
                let period = i128::try_from(period.as_nanos()).ok()?;
                let elapsed = (after - since).whole_nanoseconds().max(0);
                let periods = elapsed / period + 1;
                Some(since + time::Duration::nanoseconds_i128(periods * period))
            }
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }
}

impl Cron {
    fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let after = after.to_offset(time::UtcOffset::UTC);
        let mut day = after.date();
        // The next whole minute after `after`, on its day or a later one.
        let mut from = after.time().hour() as usize * 60 + after.time().minute() as usize + 1;
        while day.year() <= LAST_YEAR {
            if self.takes(day) {
                for minute_of_day in from..24 * 60 {
                    let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours[hour] && self.minutes[minute] {
                        let at = Time::from_hms(hour as u8, minute as u8, 0).ok()?;
                        return Some(day.with_time(at).assume_utc());
                    }
                }
            }
            day = day.next_day()?;
            from = 0;
        }
        None
    }

    fn takes(&self, day: Date) -> bool {
        let year = usize::try_from(day.year() - FIRST_YEAR).ok();
        let in_year = year.and_then(|y| self.years.get(y)).copied().unwrap_or(false);
        let in_month = self.months[u8::from(day.month()) as usize - 1];
        let on_day = match (&self.days_of_month, &self.days_of_week) {
            (Some(days), _) => days[day.day() as usize - 1],
            (None, Some(weekdays)) => weekdays[day.weekday().number_days_from_sunday() as usize],
            (None, None) => false,
        };
        in_year && in_month && on_day
    }
}

/// The values a cron field takes, as flags from `low` (index 0) to `high`.
fn values(text: &str, low: i32, high: i32, names: &[&str], first_name: i32) -> Result<Vec<bool>, String> {
    let mut taken = vec![false; (high - low + 1) as usize];
    let number = |part: &str| -> Result<i32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(part)) {
            return Ok(first_name + i as i32);
        }
        if part.contains(['L', 'W', '#']) {
            return Err(format!("{part}: L, W and # are not fired here"));
        }
        let n: i32 = part.parse().map_err(|_| format!("{part} is not a value of this field"))?;
        if (low..=high).contains(&n) { Ok(n) } else { Err(format!("{n} is outside {low}-{high}")) }
    };
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<i32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or(format!("{item}: the increment is a whole number above 0"))?,
            ),
            None => (item, 1),
        };
        let (start, end) = match range {
            "*" => (low, high),
            range => match range.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // `5/15`: from 5 to the end, every 15.
                None if item.contains('/') => (number(range)?, high),
                None => {
                    let n = number(range)?;
                    (n, n)
                }
            },
        };
        if start > end {
            return Err(format!("{item}: the range runs backwards"));
        }
        for value in (start..=end).step_by(step as usize) {
            taken[(value - low) as usize] = true;
        }
    }
    Ok(taken)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as an event's `time`.
pub fn event_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::{Schedule, event_time};
    use time::macros::datetime;

    fn next(expression: &str, after: time::OffsetDateTime) -> time::OffsetDateTime {
        Schedule::parse(expression).unwrap().next_after(after, after).unwrap()
    }

    #[test]
    fn rates_fire_every_period_from_when_the_rule_was_made() {
        let since = datetime!(2026-12-08 00:00:10 UTC);
        let five = Schedule::parse("rate(5 minutes)").unwrap();
        assert_eq!(five.next_after(since, since), Some(datetime!(2026-12-08 00:05:10 UTC)));
        assert_eq!(
            five.next_after(datetime!(2026-12-08 00:05:10 UTC), since),
            Some(datetime!(2026-12-08 00:10:10 UTC))
        );
        assert_eq!(next("rate(1 day)", since), datetime!(2026-12-09 00:00:10 UTC));
        for refused in ["rate(1 minutes)", "rate(2 hour)", "rate(0 days)", "rate(5 weeks)", "rate(five minutes)"] {
            assert!(Schedule::parse(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn cron_fires_at_the_next_minute_its_fields_take() {
        let at = datetime!(2026-12-08 00:54:30 UTC); // a Tuesday
        assert_eq!(next("cron(0 3 * * ? *)", at), datetime!(2026-12-08 03:00 UTC));
        assert_eq!(next("cron(0/15 * * * ? *)", at), datetime!(2026-12-08 01:00 UTC));
        assert_eq!(next("cron(5,55 * * * ? *)", at), datetime!(2026-12-08 00:55 UTC));
        // Weekdays by name, Monday to Friday at 18:00.
        assert_eq!(next("cron(0 18 ? * MON-FRI *)", datetime!(2026-12-11 18:00 UTC)), datetime!(2026-12-14 18:00 UTC));
        // 1 is Sunday.
        assert_eq!(next("cron(0 12 ? * 1 *)", at), datetime!(2026-12-13 12:00 UTC));
        // The first of the month, in a named month and a later year.
        assert_eq!(next("cron(30 9 1 JAN ? 2027-2030)", at), datetime!(2027-01-01 09:30 UTC));
        // Past its last year, never again.
        assert_eq!(Schedule::parse("cron(0 0 1 1 ? 2020)").unwrap().next_after(at, at), None);
        for refused in [
            "cron(0 3 * * * *)",
            "cron(0 3 ? * ? *)",
            "cron(0 3 L * ? *)",
            "cron(0 3 ? * 6#3 *)",
            "cron(60 3 * * ? *)",
            "cron(0 3 * *)",
            "every day",
        ] {
            assert!(Schedule::parse(refused).is_err(), "{refused}");
        }
        assert_eq!(event_time(datetime!(2026-12-08 03:00:00.123 UTC)), "2026-12-08T03:00:00Z");
    }
}
