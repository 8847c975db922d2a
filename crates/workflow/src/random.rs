//! Unguessable strings for heredoc delimiters and stop-commands tokens.
//!
//! Both exist to keep untrusted text from ending a block early, so they come from the operating
//! system's generator and are checked against the text they fence.

use crate::{Error, Result};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn bytes() -> Result<[u8; 16]> {
    let mut bytes = [0; 16];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

/// 32 lowercase hex digits (128 random bits).
pub(crate) fn token() -> Result<String> {
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &bytes()?);
    Ok(out)
}

/// A random (version 4) UUID, the shape `@actions/core` uses in its delimiters.
pub(crate) fn uuid() -> Result<String> {
    let mut bytes = bytes()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, group) in [
        &bytes[..4],
        &bytes[4..6],
        &bytes[6..8],
        &bytes[8..10],
        &bytes[10..],
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        push_hex(&mut out, group);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_32_lowercase_hex_digits() -> Result<()> {
        let token = token()?;
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| HEX.contains(&b)));
        Ok(())
    }

    #[test]
    fn two_tokens_differ() -> Result<()> {
        assert_ne!(token()?, token()?);
        Ok(())
    }

    #[test]
    fn a_uuid_has_the_version_4_shape() -> Result<()> {
        let uuid = uuid()?;
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(groups[3].starts_with(['8', '9', 'a', 'b']));
        Ok(())
    }
}
