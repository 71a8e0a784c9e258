//! BER read as DER. A CMS signature may be written in BER: indefinite lengths, strings cut
//! into constructed segments, lengths in more octets than they need. Adobe, BouncyCastle and
//! `openssl cms -stream` write it so. [`to_der`] re-encodes such an element in the one form DER
//! allows, so that the strict reader after it takes both, and a DER element comes out as the
//! very bytes it went in as (certificates keep the encoding their issuer signed).
//!
//! The input is untrusted: the reader keeps to a depth and an element count, never reads past
//! the input, and ends with an error on what is not BER.

/// How deep elements may nest (a CMS signature nests about fifteen).
const MAX_DEPTH: usize = 64;
/// How many elements one input may hold (a signature with a long chain holds a few thousand).
const MAX_ELEMENTS: usize = 200_000;

/// The first element of `input`, in DER; what follows it (the zeros padding a PDF signature's
/// `/Contents`) is left alone.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = Reader {
        input,
        at: 0,
        elements: 0,
    };
    let mut out = Vec::with_capacity(input.len());
    reader.element(0, &mut out)?;
    Ok(out)
}

struct Header {
    /// The identifier octets, as they stand.
    tag: std::ops::Range<usize>,
    constructed: bool,
    /// `None`: indefinite, ended by two zero octets.
    length: Option<usize>,
}

struct Reader<'a> {
    input: &'a [u8],
    at: usize,
    elements: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self
            .input
            .get(self.at)
            .ok_or("BER terpotong: data berakhir di tengah elemen")?;
        self.at += 1;
        Ok(byte)
    }

    fn header(&mut self) -> Result<Header, String> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(format!("BER berisi lebih dari {MAX_ELEMENTS} elemen"));
        }
        let start = self.at;
        let first = self.byte()?;
        if first & 0x1f == 0x1f {
            // High tag number: base-128 digits, the last without its top bit; four suffice
            // for any tag a signature uses.
            let mut digits = 0;
            while self.byte()? & 0x80 != 0 {
                digits += 1;
                if digits > 4 {
                    return Err("tag BER terlalu panjang".into());
                }
            }
        }
        let tag = start..self.at;
        let constructed = first & 0x20 != 0;
        let length = match self.byte()? {
            0x80 if constructed => None,
            0x80 => return Err("panjang tak tentu pada elemen primitif".into()),
            short @ 0..=0x7f => Some(usize::from(short)),
            0xff => return Err("panjang BER tidak sah".into()),
            long => {
                let octets = usize::from(long & 0x7f);
                if octets > std::mem::size_of::<u32>() {
                    return Err("panjang BER terlalu besar".into());
                }
                let mut value = 0usize;
                for _ in 0..octets {
                    value = (value << 8) | usize::from(self.byte()?);
                }
                Some(value)
            }
        };
        if let Some(length) = length
            && length > self.input.len() - self.at
        {
            return Err("BER terpotong: panjang elemen melampaui data".into());
        }
        Ok(Header {
            tag,
            constructed,
            length,
        })
    }

    /// Reads one element and writes it in DER to `out`.
    fn element(&mut self, depth: usize, out: &mut Vec<u8>) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("BER bersarang lebih dari {MAX_DEPTH} tingkat"));
        }
        let header = self.header()?;
        let tag = &self.input[header.tag.clone()];
        if !header.constructed {
            let length = header.length.unwrap_or_default();
            let content = &self.input[self.at..self.at + length];
            self.at += length;
            write(out, tag, content);
            return Ok(());
        }
        let mut body = Vec::new();
        match header.length {
            Some(length) => {
                let end = self.at + length;
                while self.at < end {
                    self.element(depth + 1, &mut body)?;
                }
                if self.at != end {
                    return Err("BER: isi elemen melampaui panjangnya".into());
                }
            }
            None => loop {
                match self.input.get(self.at..self.at + 2) {
                    Some([0, 0]) => {
                        self.at += 2;
                        break;
                    }
                    Some(_) => self.element(depth + 1, &mut body)?,
                    None => return Err("BER terpotong: akhir elemen tak tentu tidak ada".into()),
                }
            },
        }
        match segmented_string(tag) {
            Some(primitive) => {
                let joined = join_segments(primitive, &body)?;
                write(out, &[primitive], &joined);
            }
            None => write(out, tag, &body),
        }
        Ok(())
    }
}

/// For a constructed universal string type (which only BER writes), its primitive tag.
fn segmented_string(tag: &[u8]) -> Option<u8> {
    let [first] = tag else { return None };
    let number = first & 0x1f;
    let universal = first & 0xc0 == 0;
    // BIT STRING, OCTET STRING, UTF8String, the character strings 18–22 and 25–30, and the
    // two times.
    let string = matches!(number, 3 | 4 | 12 | 18..=30);
    (universal && string).then_some(first & !0x20)
}

/// The segments of a constructed string (already in DER, each the primitive `tag`) joined
/// into one value. A BIT STRING's segments each begin with their count of unused bits, which
/// only the last may have.
fn join_segments(tag: u8, body: &[u8]) -> Result<Vec<u8>, String> {
    let bit_string = tag == 0x03;
    let mut joined = Vec::with_capacity(body.len());
    let mut unused = 0u8;
    let mut rest = body;
    if bit_string {
        joined.push(0);
    }
    while !rest.is_empty() {
        let (segment_tag, content, after) = split_der(rest)?;
        if segment_tag != tag {
            return Err("BER: segmen string berbeda jenis".into());
        }
        if bit_string {
            if unused != 0 {
                return Err("BER: segmen BIT STRING dengan bit sisa di tengah".into());
            }
            let (&count, bits) = content
                .split_first()
                .ok_or("BER: segmen BIT STRING kosong")?;
            unused = count;
            joined.extend_from_slice(bits);
        } else {
            joined.extend_from_slice(content);
        }
        rest = after;
    }
    if bit_string {
        joined[0] = unused;
    }
    Ok(joined)
}

/// The first DER element of `der` (one-octet tag, as [`join_segments`] meets): its tag, its
/// content and what follows.
fn split_der(der: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let malformed = || "BER: segmen string tidak terbaca".to_owned();
    let (&tag, rest) = der.split_first().ok_or_else(malformed)?;
    let (&first, mut rest) = rest.split_first().ok_or_else(malformed)?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let octets = usize::from(first & 0x7f);
        let (digits, after) = rest.split_at_checked(octets).ok_or_else(malformed)?;
        rest = after;
        digits.iter().fold(0, |n, d| (n << 8) | usize::from(*d))
    };
    let (content, after) = rest.split_at_checked(length).ok_or_else(malformed)?;
    Ok((tag, content, after))
}

/// Writes an element in DER: its tag, its length in the fewest octets, its content.
fn write(out: &mut Vec<u8>, tag: &[u8], content: &[u8]) {
    out.extend_from_slice(tag);
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets = length.to_be_bytes();
        let skip = octets.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (octets.len() - skip) as u8);
        out.extend_from_slice(&octets[skip..]);
    }
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_segmented_strings_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING in two segments "ab" "c", INTEGER 5 }, then
        // padding.
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let der = to_der(&ber).expect("reads");
        assert_eq!(
            der,
            [0x30, 0x08, 0x04, 0x03, b'a', b'b', b'c', 0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn der_comes_out_as_it_went_in() {
        let mut long = vec![0x30, 0x82, 0x01, 0x05, 0x04, 0x81, 0xff];
        long.extend(std::iter::repeat_n(7u8, 0xff));
        long.extend([0x01, 0x01, 0x01]);
        assert_eq!(to_der(&long).expect("reads"), long);
    }

    #[test]
    fn long_form_lengths_are_shortened_and_bit_strings_joined() {
        // [0] (long form length 3) { BIT STRING segments: 0x00 0xf0 | 0x04 0x0f }.
        let ber = [
            0xa0, 0x84, 0x00, 0x00, 0x00, 0x0a, 0x23, 0x08, 0x03, 0x02, 0x00, 0xf0, 0x03, 0x02,
            0x04, 0x0f,
        ];
        assert_eq!(
            to_der(&ber).expect("reads"),
            [0xa0, 0x05, 0x03, 0x03, 0x04, 0xf0, 0x0f]
        );
        // Unused bits in a segment before the last are not BER.
        let bad = [0x23, 0x08, 0x03, 0x02, 0x04, 0xf0, 0x03, 0x02, 0x00, 0x0f];
        assert!(to_der(&bad).is_err());
    }

    #[test]
    fn hostile_input_ends_with_an_error() {
        // Truncated, an indefinite primitive, a length past the data, no end-of-contents.
        for bad in [
            &[0x30][..],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x05, 0x02, 0x01],
            &[0x30, 0x80, 0x02, 0x01, 0x05],
            &[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ] {
            assert!(to_der(bad).is_err(), "{bad:02x?}");
        }
        // Nested past the depth limit: a thousand indefinite SEQUENCEs.
        let mut deep = [0x30, 0x80].repeat(1_000);
        deep.extend([0u8; 2_000]);
        assert!(to_der(&deep).expect_err("too deep").contains("bersarang"));
        // More elements than allowed, each one octet of header: a flat SEQUENCE of NULLs.
        let mut many = vec![0x30, 0x80];
        many.extend([0x05, 0x00].repeat(MAX_ELEMENTS + 1));
        many.extend([0, 0]);
        assert!(to_der(&many).expect_err("too many").contains("elemen"));
    }
}
