//! Decoding the LaTeX accent commands that arXiv author strings use (`Bal\\'azs`).
//!
//! arXiv's own formats (`.abs`, arXivRaw, the Kaggle `authors` string) keep names as
//! their submitters typed them in TeX. Names are shown and searched as text, so the
//! common accents are composed into precomposed Unicode letters; anything unrecognised
//! is left as it was.

use std::borrow::Cow;

/// For each accent command, pairs of (base letter, composed letter), generated from
/// Unicode's canonical compositions.
const COMPOSITIONS: [(char, &str); 13] = [
    (
        '\'',
        "aácćeégǵiíkḱlĺmḿnńoópṕrŕsśuúwẃyýzźAÁCĆEÉGǴIÍKḰLĹMḾNŃOÓPṔRŔSŚUÚWẂYÝZŹ",
    ),
    ('`', "aàeèiìnǹoòuùwẁyỳAÀEÈIÌNǸOÒUÙWẀYỲ"),
    ('^', "aâcĉeêgĝhĥiîjĵoôsŝuûwŵyŷzẑAÂCĈEÊGĜHĤIÎJĴOÔSŜUÛWŴYŶZẐ"),
    ('\"', "aäeëhḧiïoötẗuüwẅxẍyÿAÄEËHḦIÏOÖUÜWẄXẌYŸ"),
    ('~', "aãeẽiĩnñoõuũvṽyỹAÃEẼIĨNÑOÕUŨVṼYỸ"),
    ('=', "aāeēgḡiīoōuūyȳAĀEĒGḠIĪOŌUŪYȲ"),
    (
        '.',
        "aȧbḃcċdḋeėfḟgġhḣmṁnṅoȯpṗrṙsṡtṫwẇxẋyẏzżAȦBḂCĊDḊEĖFḞGĠHḢIİMṀNṄOȮPṖRṘSṠTṪWẆXẊYẎZŻ",
    ),
    ('c', "cçdḑeȩgģhḩkķlļnņrŗsştţCÇDḐEȨGĢHḨKĶLĻNŅRŖSŞTŢ"),
    (
        'v',
        "aǎcčdďeěgǧhȟiǐjǰkǩlľnňoǒrřsštťuǔzžAǍCČDĎEĚGǦHȞIǏKǨLĽNŇOǑRŘSŠTŤUǓZŽ",
    ),
    ('H', "oőuűOŐUŰ"),
    ('u', "aăeĕgğiĭoŏuŭAĂEĔGĞIĬOŎUŬ"),
    ('k', "aąeęiįoǫuųAĄEĘIĮOǪUŲ"),
    ('r', "aåuůwẘyẙAÅUŮ"),
];

/// Letters TeX writes as commands of their own.
const LETTERS: [(&str, char); 13] = [
    ("aa", 'å'),
    ("AA", 'Å'),
    ("ae", 'æ'),
    ("AE", 'Æ'),
    ("oe", 'œ'),
    ("OE", 'Œ'),
    ("ss", 'ß'),
    ("o", 'ø'),
    ("O", 'Ø'),
    ("l", 'ł'),
    ("L", 'Ł'),
    ("i", 'ı'),
    ("j", 'ȷ'),
];

fn compose(accent: char, base: char) -> Option<char> {
    let (_, pairs) = COMPOSITIONS.iter().find(|(a, _)| *a == accent)?;
    let mut chars = pairs.chars();
    while let (Some(letter), Some(composed)) = (chars.next(), chars.next()) {
        if letter == base {
            return Some(composed);
        }
    }
    None
}

/// Replaces `\'a`, `\'{a}`, `{\'a}`, `\v{s}`, `\c c`, `\aa`, `{\o}`… with Unicode
/// letters; braces are dropped once something was decoded.
pub fn decode_latex_accents(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut decoded = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\'
            && let Some((letter, next)) = accented(&chars, i + 1).or_else(|| named(&chars, i + 1))
        {
            out.push(letter);
            decoded = true;
            i = next;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    if decoded {
        out.retain(|c| c != '{' && c != '}');
    }
    Cow::Owned(out)
}

/// An accent command starting at `at` (just after the backslash): the letter and the
/// index after the command.
fn accented(chars: &[char], at: usize) -> Option<(char, usize)> {
    let accent = *chars.get(at)?;
    let mut next = at + 1;
    if accent.is_ascii_alphabetic() {
        // `\c c` or `\c{c}`: a letter command needs a space or a brace after it.
        match chars.get(next) {
            Some(' ') => next += 1,
            Some('{') => {}
            _ => return None,
        }
    }
    let (base, end) = match chars.get(next)? {
        '{' => match (chars.get(next + 1)?, chars.get(next + 2)) {
            ('\\', _) if chars.get(next + 2) == Some(&'i') && chars.get(next + 3) == Some(&'}') => {
                ('i', next + 4)
            }
            (base, Some('}')) => (*base, next + 3),
            _ => return None,
        },
        '\\' if chars.get(next + 1) == Some(&'i') => ('i', next + 2),
        base => (*base, next + 1),
    };
    compose(accent, base).map(|letter| (letter, end))
}

/// A letter command (`\aa`, `\o`) starting at `at`, not followed by more letters.
fn named(chars: &[char], at: usize) -> Option<(char, usize)> {
    LETTERS.iter().find_map(|(name, letter)| {
        let end = at + name.chars().count();
        let matches = chars.get(at..end)?.iter().copied().eq(name.chars());
        let boundary = chars.get(end).is_none_or(|c| !c.is_ascii_alphabetic());
        (matches && boundary).then(|| {
            // TeX swallows one space after a command word: `\o rsted` → `ørsted`.
            let skip = usize::from(
                chars.get(end) == Some(&' ')
                    && chars.get(end + 1).is_some_and(|c| c.is_alphabetic()),
            );
            (*letter, end + skip)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_accents() {
        for (tex, text) in [
            ("C. Bal\\'azs", "C. Balázs"),
            ("Emanuele Macr\\`i", "Emanuele Macrì"),
            ("J. M\\\"{u}ller", "J. Müller"),
            ("{\\'E}cole", "École"),
            ("Ji\\v{r}\\'i", "Jiří"),
            ("Fran\\c{c}ois", "François"),
            ("Fran\\c cois", "François"),
            ("{\\AA}ngstr{\\\"o}m", "Ångström"),
            ("S{\\o}ren", "Søren"),
            ("{\\L}ukasz", "Łukasz"),
            ("Nu\\~{n}ez", "Nuñez"),
            ("Mart\\'{\\i}n", "Martín"),
            ("Mart\\'\\in", "Martín"),
        ] {
            assert_eq!(decode_latex_accents(tex), text, "{tex}");
        }
    }

    #[test]
    fn leaves_the_rest_alone() {
        assert!(matches!(
            decode_latex_accents("Plain Name"),
            Cow::Borrowed(_)
        ));
        assert_eq!(decode_latex_accents("$\\alpha$ {x}"), "$\\alpha$ {x}");
    }
}
