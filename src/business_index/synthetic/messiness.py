"""How real council records garble names and addresses, as functions of a seeded random generator.

Every kind of mess here was seen in the real FSA and Basildon files in shared/data: legal forms
written five ways, '&' and 'and', 't/a' and 'trading as', lost apostrophes, case, typos,
abbreviations, a dropped or added 'The', swapped words; 'Ground Floor' as 'Gnd Flr', '12a' as
'12 A', missing or neighbouring postcodes, address lines merged or reordered.
"""

from __future__ import annotations

import random
import re

LEGAL_SPELLINGS = ("Ltd", "Limited", "LTD", "Ltd.", "LIMITED", "")
NAME_ABBREVIATIONS = {
    "Services": "Svcs", "Brothers": "Bros", "Company": "Co", "International": "Intl",
    "Supermarket": "S/market", "Restaurant": "Rest.", "Properties": "Props", "Catering": "Cat.",
    "Supplies": "Supp.", "Pharmacy": "Pharm.", "Limited": "Ltd",
}
STREET_ABBREVIATIONS = {
    "ROAD": "RD", "STREET": "ST", "AVENUE": "AVE", "LANE": "LN", "TERRACE": "TERR", "GARDENS": "GDNS",
    "CLOSE": "CL", "PLACE": "PL", "CRESCENT": "CRES", "SQUARE": "SQ", "GROVE": "GR", "HIGH STREET": "HIGH ST",
}
FLOOR_SPELLINGS = {
    "GROUND FLOOR": ("Ground Floor", "Gnd Flr", "Grd Floor", "G/F", "Ground Floor Shop", "Shop", "GROUND FLOOR"),
    "BASEMENT AND GROUND FLOOR": ("Basement and Ground Floor", "Bsmt & Gnd Flr", "Basement & Ground Floor",
                                  "B/G Floors"),
    "FIRST FLOOR": ("First Floor", "1st Floor", "1st Flr", "FIRST FLOOR"),
}
_LEGAL_TAIL = re.compile(r"\s+(LIMITED|LTD\.?|PLC|LLP|CIC)$", re.IGNORECASE)


def title(text: str) -> str:
    """Title case that leaves "Joe's" alone (str.title would make it "Joe'S")."""
    return " ".join(word[:1].upper() + word[1:].lower() if word.isalpha() or "'" in word else word
                    for word in text.split(" "))


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip in a word of five or more letters: drop, double or swap a letter."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        word = word[:j] + word[j + 1:]
    elif kind == 1:
        word = word[:j] + word[j] + word[j:]
    else:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    words[i] = word
    return " ".join(words)


def strip_legal_form(name: str) -> str:
    return _LEGAL_TAIL.sub("", name).strip()


def vary_legal_form(rng: random.Random, name: str) -> str:
    """Re-spell a trailing legal form (or add one) the ways councils type it."""
    if not _LEGAL_TAIL.search(name):
        return name
    base = strip_legal_form(name)
    tail = _LEGAL_TAIL.search(name)
    form = tail.group(1).upper().rstrip(".") if tail else "LIMITED"
    if form in ("LIMITED", "LTD"):
        spelling = rng.choice(LEGAL_SPELLINGS)
    else:
        spelling = rng.choice((form, form.title(), form.lower(), ""))
    return f"{base} {spelling}".strip()


def vary_name(rng: random.Random, name: str, mess: float = 1.0) -> str:
    """A plausible way a clerk might have typed ``name``; ``mess`` scales how often each slip happens."""
    out = vary_legal_form(rng, name)
    if rng.random() < 0.25 * mess:
        out = out.replace(" & ", " and ") if " & " in out else out.replace(" and ", " & ")
    if "'" in out and rng.random() < 0.35 * mess:
        out = out.replace("'", "")
    if rng.random() < 0.08 * mess:
        for long, short in NAME_ABBREVIATIONS.items():
            if long in out:
                out = out.replace(long, short, 1)
                break
    if rng.random() < 0.10 * mess:
        out = out[4:] if out.startswith("The ") else ("The " + out if not out.startswith("THE ") else out)
    if " & " in out and rng.random() < 0.08 * mess:
        left, _, right = out.partition(" & ")
        if not _LEGAL_TAIL.search(right):
            out = f"{right} & {left}"
    if rng.random() < 0.07 * mess:
        out = typo(rng, out)
    roll = rng.random()
    if roll < 0.30:
        out = out.upper()
    elif roll < 0.33 * mess:
        out = out.lower()
    if rng.random() < 0.05 * mess:
        out = out + rng.choice((".", " ", "  "))
    return re.sub(r" {3,}", "  ", out).strip(" ") if not out.endswith(" ") else out


def trading_as(rng: random.Random, proprietor: str, trading: str) -> str:
    """A sole trader written with both names, in the forms council systems use."""
    initial = proprietor.split(" ")[0][0]
    surname = proprietor.split(" ")[-1]
    who = rng.choice((proprietor, f"{initial} {surname}", f"Mr {initial} {surname}", proprietor.upper()))
    form = rng.randrange(5)
    if form == 0:
        return f"{who} t/a {trading}"
    if form == 1:
        return f"{who} T/A {trading}"
    if form == 2:
        return f"{who} trading as {trading}"
    if form == 3:
        return f"{trading} ({who})"
    return f"{who} T/As {trading}"


EIGHTEEN_WAYS = (
    # (description, function of (base trading name, legal name, proprietor)) - each gives a distinct spelling
    ("as registered", lambda t, legal, p: legal),
    ("title case Ltd", lambda t, legal, p: f"{t} Ltd"),
    ("title case Limited", lambda t, legal, p: f"{t} Limited"),
    ("no legal form", lambda t, legal, p: t),
    ("upper case LTD", lambda t, legal, p: f"{t.upper()} LTD"),
    ("Ltd with full stop", lambda t, legal, p: f"{t} Ltd."),
    ("dropped word", lambda t, legal, p: " ".join(t.split(" ")[:-1]) + " Ltd"),
    ("typo", lambda t, legal, p: t.replace("pp", "p", 1) + " Ltd" if "pp" in t else t[:-2] + t[-1] + " Ltd"),
    ("plural", lambda t, legal, p: t.split(" ")[0] + "s " + " ".join(t.split(" ")[1:])),
    ("(UK) qualifier", lambda t, legal, p: f"{t} (UK) Ltd"),
    ("The and Co", lambda t, legal, p: f"The {t} Co"),
    ("ampersand", lambda t, legal, p: " & ".join(t.rsplit(" ", 1)) + " Ltd"),
    ("and", lambda t, legal, p: " and ".join(t.rsplit(" ", 1))),
    ("singular upper", lambda t, legal, p: _singular(t).upper() + " LTD"),
    ("abbreviated", lambda t, legal, p: " ".join(w[:4] + "." if i == 1 else w for i, w in enumerate(t.split(" "))) + " Ltd"),
    ("t/a", lambda t, legal, p: f"{p} t/a {t}"),
    ("in administration", lambda t, legal, p: f"{t} Ltd (In Administration)"),
    ("lower case", lambda t, legal, p: f"{t.lower()} limited"),
)


def _singular(text: str) -> str:
    if text.endswith("ies"):
        return text[:-3] + "y"
    return text[:-1] if text.endswith("s") else text + "s"


def vary_number(rng: random.Random, start: int | None, suffix: str | None, end: int | None,
                end_suffix: str | None) -> str:
    if start is None:
        return ""
    first = f"{start}{suffix or ''}"
    if suffix and rng.random() < 0.3:
        first = f"{start} {suffix}" if rng.random() < 0.5 else f"{start}{suffix.lower()}"
    if end is None:
        return first
    sep = rng.choice(("-", "-", " - ", "/"))
    return f"{first}{sep}{end}{end_suffix or ''}"


def vary_street(rng: random.Random, street: str, mess: float = 1.0) -> str:
    out = street
    if rng.random() < 0.25 * mess:
        for long, short in STREET_ABBREVIATIONS.items():
            if out.endswith(long):
                out = out[: -len(long)] + short
                break
    if rng.random() < 0.03 * mess:
        out = typo(rng, out)
    return out


def vary_sub_address(rng: random.Random, sao_text: str | None, sao_number: str) -> str:
    if sao_text in FLOOR_SPELLINGS:
        return rng.choice(FLOOR_SPELLINGS[sao_text])
    if sao_text and sao_text.startswith("UNIT"):
        num = sao_text.split(" ", 1)[1] if " " in sao_text else sao_number
        return rng.choice((f"Unit {num}", f"UNIT {num}", f"Unit {num},", f"Shop {num}", f"{num}"))
    if sao_text and sao_text.startswith("FLAT"):
        rest = sao_text.split(" ", 1)[1] if " " in sao_text else ""
        return rng.choice((f"Flat {rest}", f"FLAT {rest}", f"Flat {rest}".upper(), f"{rest}"))
    if sao_text and sao_text.startswith("ARCH"):
        rest = sao_text.split(" ", 1)[1]
        return rng.choice((f"Arch {rest}", f"Railway Arch {rest}", f"ARCH {rest}", f"Arches {rest}"))
    if sao_text:
        return title(sao_text)
    return sao_number
