//! The request's time: `x-amz-date` (`YYYYMMDDTHHMMSSZ`) or else `Date` (an IMF-fixdate,
//! RFC 9110), within 15 minutes of ours either way (AWS's rule). Parsing and the calendar are
//! the `time` crate's.

use alloc::format;
use alloc::string::{String, ToString};

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::invalid;
use crate::error::Error;
use crate::http::Request;

/// How far the request's time may be from ours, either way (AWS's rule).
const MAX_SKEW_SECS: i64 = 15 * 60;

/// `20150830T123600Z` (ISO 8601 basic format, UTC).
const AMZ_DATE: &[BorrowedFormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// `Sun, 30 Aug 2015 12:36:00 GMT` (RFC 9110's IMF-fixdate; the weekday is not checked).
const HTTP_DATE: &[BorrowedFormatItem<'_>] = format_description!(
    "[ignore count:3], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// The request's time as the `YYYYMMDDTHHMMSSZ` string that goes into the string to sign, and
/// as Unix seconds. From `x-amz-date`, else from `date` (an IMF-fixdate, RFC 9110).
pub(super) fn request_time(request: &Request) -> Result<(String, i64), Error> {
    if let Some(value) = request.header("x-amz-date") {
        let value = value.trim();
        let secs = parse_amz_date(value).ok_or_else(|| {
            invalid(
                "Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z') in the \
                 'X-Amz-Date' header.",
            )
        })?;
        return Ok((value.to_string(), secs));
    }
    if let Some(value) = request.header("date") {
        let secs = parse_http_date(value.trim()).ok_or_else(|| {
            invalid("The 'Date' header must be an HTTP date, e.g. 'Sun, 30 Aug 2015 12:36:00 GMT'.")
        })?;
        return Ok((format_amz_date(secs), secs));
    }
    Err(invalid(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    ))
}

pub(super) fn check_clock(
    timestamp: &str,
    request_secs: i64,
    now_millis: u64,
) -> Result<(), Error> {
    let now = i64::try_from(now_millis / 1000).unwrap_or(i64::MAX);
    let earliest = now.saturating_sub(MAX_SKEW_SECS);
    let latest = now.saturating_add(MAX_SKEW_SECS);
    if request_secs < earliest {
        return Err(invalid(format!(
            "Signature expired: {timestamp} is now earlier than {} ({} - 15 min.)",
            format_amz_date(earliest),
            format_amz_date(now)
        )));
    }
    if request_secs > latest {
        return Err(invalid(format!(
            "Signature not yet current: {timestamp} is still later than {} ({} + 15 min.)",
            format_amz_date(latest),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// `20150830T123600Z` as Unix seconds: exactly four year digits (no sign), UTC.
pub(super) fn parse_amz_date(value: &str) -> Option<i64> {
    parse_utc(value, AMZ_DATE)
}

/// `Sun, 30 Aug 2015 12:36:00 GMT` as Unix seconds.
pub(super) fn parse_http_date(value: &str) -> Option<i64> {
    parse_utc(value, HTTP_DATE)
}

fn parse_utc(value: &str, format: &[BorrowedFormatItem<'_>]) -> Option<i64> {
    // `time` takes a signed year (`+2015`); AWS's formats have four digits and no sign.
    if value.contains(['+', '-']) {
        return None;
    }
    let datetime = PrimitiveDateTime::parse(value, format).ok()?;
    Some(datetime.assume_utc().unix_timestamp())
}

/// Unix seconds as `YYYYMMDDTHHMMSSZ`, clamped to the years 0000 to 9999 (only a clock gone
/// wrong gets beyond, and it is then only named in an error message).
pub(super) fn format_amz_date(secs: i64) -> String {
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    const RANGE: (i64, i64) = (-62_167_219_200, 253_402_300_799);
    let datetime = OffsetDateTime::from_unix_timestamp(secs.clamp(RANGE.0, RANGE.1))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        datetime.year(),
        u8::from(datetime.month()),
        datetime.day(),
        datetime.hour(),
        datetime.minute(),
        datetime.second()
    )
}
