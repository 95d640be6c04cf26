//! The `.modinfo` section: NUL-separated `key=value` strings (Linux:
//! kernel/module/main.c `get_modinfo`, `get_next_modinfo`; what `modinfo`
//! prints).

/// A borrowed `.modinfo` section.
#[derive(Clone, Copy, Debug)]
pub struct ModInfo<'a> {
    bytes: &'a [u8],
}

impl<'a> ModInfo<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Every `key=value` entry with its value, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.bytes.split(|&b| b == 0).filter_map(|entry| {
            let eq = entry.iter().position(|&b| b == b'=')?;
            Some((&entry[..eq], &entry[eq + 1..]))
        })
    }

    /// The first value of `key` (Linux: `get_modinfo`).
    pub fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.entries().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Parameter `name`'s type from its `parmtype=name:type` entry.
    pub fn param_type(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.entries().filter(|(k, _)| *k == b"parmtype").find_map(|(_, v)| {
            let colon = v.iter().position(|&b| b == b':')?;
            (&v[..colon] == name).then(|| &v[colon + 1..])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_param_types() {
        let raw = b"license=GPL\0\0vermagic=6.1.0 SMP \0parmtype=who:charp\0junk\0name=hello\0";
        let info = ModInfo::new(raw);
        assert_eq!(info.get(b"license"), Some(&b"GPL"[..]));
        assert_eq!(info.get(b"vermagic"), Some(&b"6.1.0 SMP "[..]));
        assert_eq!(info.get(b"name"), Some(&b"hello"[..]));
        assert_eq!(info.param_type(b"who"), Some(&b"charp"[..]));
        assert_eq!(info.param_type(b"whom"), None);
        assert_eq!(info.get(b"junk"), None);
    }
}
