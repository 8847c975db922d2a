//! What travels on the wire, shared by both forges: the parsed request, the reply, query strings,
//! paging with `Link` headers (RFC 8288), and ISO 8601 timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A request, read in full and decoded once.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub method: Method,
    /// The path as sent, without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Incoming {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A positive integer parameter, or `default` when absent or not a number.
    pub fn number(&self, name: &str, default: usize) -> usize {
        self.param(name)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    }

    /// A comma-separated parameter's items (`labels=a,b`), empty when absent.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.param(name)
            .map(|l| {
                l.split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body, or `None` when absent or malformed.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The path split into percent-decoded segments.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect()
    }
}

/// The emulator's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Payload,
}

#[derive(Debug)]
pub(crate) enum Payload {
    Json(Value),
    Bytes { data: Vec<u8>, content_type: String },
    Empty,
}

/// Handlers return `Err` for any early answer (not found, forbidden, …), so `?` works on checks.
pub(crate) type Outcome = Result<Reply, Reply>;

impl Reply {
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: Payload::Json(value),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: Payload::Empty,
        }
    }

    pub fn bytes(data: Vec<u8>, content_type: &str) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Payload::Bytes {
                data,
                content_type: content_type.to_owned(),
            },
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers
            .push((HeaderName::from_static(name), value.into()));
        self
    }

    pub fn into_response(self) -> Response {
        let mut response = match self.body {
            Payload::Json(value) => {
                let mut r = Body::from(value.to_string()).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                r
            }
            Payload::Bytes { data, content_type } => {
                let mut r = Body::from(data).into_response();
                if let Ok(v) = HeaderValue::from_str(&content_type) {
                    r.headers_mut().insert(header::CONTENT_TYPE, v);
                }
                r
            }
            Payload::Empty => Body::empty().into_response(),
        };
        *response.status_mut() = self.status;
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().append(name, v);
            }
        }
        response
    }
}

/// Decodes `%XX` escapes; invalid escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An `application/x-www-form-urlencoded` query string, decoded.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// The request target for the log: query values that could carry a credential are redacted.
pub(crate) fn redacted_target(path: &str, query: Option<&str>) -> String {
    let Some(query) = query else {
        return path.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            if ["access_token", "token", "sig", "signature"]
                .contains(&key.to_ascii_lowercase().as_str())
            {
                format!("{key}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

/// One page of `items` (1-based `page`), and the `Link` header for the others, built on `base`
/// (the absolute URL of the path, without query) with the other query parameters kept.
pub(crate) fn paginate<'a, T>(
    items: &'a [T],
    page: usize,
    per_page: usize,
    base: &str,
    query: &[(String, String)],
    size_param: &str,
) -> (&'a [T], Option<String>) {
    let per_page = per_page.max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    let link_to = |p: usize| {
        let mut params: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "page" && k != size_param)
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        params.push(format!("{size_param}={per_page}"));
        params.push(format!("page={p}"));
        format!("<{base}?{}>", params.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    (&items[start..end], link)
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `secs` since the epoch as `2024-01-01T00:00:00Z`.
pub(crate) fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(crate) fn now() -> String {
    iso8601(now_secs())
}

/// A git date (`…+00:00`) as both forges write UTC, `…Z`.
pub(crate) fn zulu(date: &str) -> String {
    date.strip_suffix("+00:00")
        .map_or_else(|| date.to_owned(), |d| format!("{d}Z"))
}

/// A JSON body's string field.
pub(crate) fn str_field(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A JSON array's strings (assignees), empty when absent.
pub(crate) fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn paging_links_keep_other_parameters() {
        let items: Vec<u32> = (0..5).collect();
        let q = vec![("state".to_owned(), "all".to_owned())];
        let (page, link) = paginate(&items, 2, 2, "http://h/x", &q, "per_page");
        assert_eq!(page, &[2, 3]);
        let link = link.expect("a link header");
        assert!(link.contains("<http://h/x?state=all&per_page=2&page=3>; rel=\"next\""));
        assert!(link.contains("page=3>; rel=\"last\""));
        assert!(link.contains("page=1>; rel=\"prev\""));
    }

    #[test]
    fn percent_decoding_round_trips() {
        assert_eq!(percent_decode("tags%2Fv1.0"), "tags/v1.0");
        assert_eq!(percent_decode(&percent_encode("a b/ü")), "a b/ü");
    }
}
