//! Times on the command line: RFC 3339 or unix seconds in, dates out.

use crate::error::CliError;

/// Parses `--at`: unix seconds or an RFC 3339 timestamp.
pub fn parse_at(text: &str) -> Result<i64, CliError> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|_| CliError::Time)
}

/// The current time in unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A unix time as an RFC 3339 UTC timestamp, or the number if it is out of range.
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// A unix time as a calendar date (UTC).
pub fn date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    // --at accepts both documented forms and nothing else.
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(parse_at("1798761600").unwrap(), 1_798_761_600);
        assert_eq!(parse_at("2027-01-01T00:00:00Z").unwrap(), 1_798_761_600);
        assert_eq!(
            parse_at("2027-01-01T08:00:00+08:00").unwrap(),
            1_798_761_600
        );
        assert!(parse_at("yesterday").is_err());
        assert_eq!(rfc3339(1_798_761_600), "2027-01-01T00:00:00Z");
    }
}
