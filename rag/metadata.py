"""Document metadata read from the text of a Vietnamese administrative document.

A report opens with a header (issuing body, ``Số: 123/BC-UBND``, ``Quan Hoá, ngày ...
tháng 12 năm 2024``, ``BÁO CÁO`` + title or ``V/v ...``, ``Kính gửi``) and closes with
a signature block (``KT. CHỦ TỊCH`` / ``PHÓ CHỦ TỊCH`` / name). News items open with a
headline and a ``14/03/2023 07:57`` line. ``extract_metadata`` reads all of it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .gazetteer import PROVINCES, province_named
from .vntext import PLACE_NAME, canonical_tones, match_key

DOC_TYPES = {
    "BÁO CÁO": "Báo cáo", "KẾ HOẠCH": "Kế hoạch", "QUYẾT ĐỊNH": "Quyết định", "TỜ TRÌNH": "Tờ trình",
    "THÔNG BÁO": "Thông báo", "CÔNG VĂN": "Công văn", "ĐỀ ÁN": "Đề án", "CHƯƠNG TRÌNH": "Chương trình",
    "NGHỊ QUYẾT": "Nghị quyết", "HƯỚNG DẪN": "Hướng dẫn", "CHỈ THỊ": "Chỉ thị",
}
_TYPE_BY_CODE = {"BC": "Báo cáo", "KH": "Kế hoạch", "QĐ": "Quyết định", "TTR": "Tờ trình",
                 "TB": "Thông báo", "CV": "Công văn", "ĐA": "Đề án", "CTR": "Chương trình",
                 "NQ": "Nghị quyết", "HD": "Hướng dẫn", "CT": "Chỉ thị"}
NEWS = "Tin tức"
OFFICIAL_LETTER = "Công văn"

_MARKUP = re.compile(r"^[#>\s]*|\*\*|__")
_NUMBER = re.compile(r"^Số\s*:\s*(?P<num>[^\s]*)\s*$|^Số\s*:\s*(?P<num2>\S+(?:\s*/\s*\S+)?)", re.IGNORECASE)
_DATE_LINE = re.compile(
    r"^(?P<place>[^0-9,:]{2,40}),\s*ngày\s*(?P<d>[0-9]{1,2})?[\s.…]*tháng\s*(?P<m>[0-9]{1,2})?[\s.…]*năm\s*(?P<y>[0-9]{4})",
    re.IGNORECASE)
_NEWS_DATE = re.compile(r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})(?:\s+[0-9]{1,2}:[0-9]{2})?$")
_ORG_UNIT = re.compile(r"^(?:(?:UBND|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)\s+)?(?P<unit>TỈNH|HUYỆN|THỊ XÃ|THÀNH PHỐ|QUẬN|XÃ)\s+(?P<name>.+)$")
_COUNCIL = ("UBND", "ỦY BAN NHÂN DÂN", "UỶ BAN NHÂN DÂN")
_UNIT_WORDS = {"TỈNH": "tỉnh", "HUYỆN": "huyện", "THỊ XÃ": "thị xã", "THÀNH PHỐ": "thành phố", "QUẬN": "quận", "XÃ": "xã"}
_AGENCIES = {
    "SỞ KHOA HỌC VÀ CÔNG NGHỆ": "Sở Khoa học và Công nghệ",
    "SỞ KH&CN": "Sở KH&CN",
    "PHÒNG KINH TẾ VÀ HẠ TẦNG": "Phòng Kinh tế và Hạ tầng",
    "PHÒNG KINH TẾ": "Phòng Kinh tế",
    "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN": "Sở Nông nghiệp và Phát triển nông thôn",
}
# "huyện Bình Liêu", "Huyện Ba Chẽ": a unit word followed by capitalised syllables
_NAME_WORDS = PLACE_NAME
_DISTRICT = re.compile(r"\b(?:huyện|Huyện|HUYỆN|thị xã|Thị xã)\s+" + _NAME_WORDS)


def capitalised_prefix(words: str) -> str:
    """The leading capitalised words of ``words``: ``Quan Hoá đã ban`` -> ``Quan Hoá``."""
    out: list[str] = []
    for word in words.split():
        if not word[:1].isupper():
            break
        out.append(word)
    return " ".join(out)


@dataclass(frozen=True)
class DocumentMetadata:
    """What a citation needs to say about a document, and what filters select on."""

    doc_type: str = ""
    number: str = ""           # as written after "Số:", e.g. "123/BC-UBND" or "/BC-UBND" when blank
    issuer: str = ""           # e.g. "Sở Khoa học và Công nghệ tỉnh Quảng Trị"
    place: str = ""            # the place of the date line, e.g. "Quan Hoá"
    date: str = ""             # as much as is known: "2024-12", "2023-03-14", "2022"
    date_text: str = ""        # the date as written, e.g. "ngày   tháng 12 năm 2024"
    year: int | None = None
    title: str = ""
    signer: str = ""
    signer_role: str = ""
    province: str = ""
    districts: tuple[str, ...] = field(default_factory=tuple)

    def number_display(self) -> str:
        """``Số 123/BC-UBND``; a blank number shows as ``Số …/BC-UBND``."""
        if not self.number:
            return ""
        return f"số …{self.number}" if self.number.startswith("/") else f"số {self.number}"


def _clean(line: str) -> str:
    return " ".join(_MARKUP.sub("", line).replace("**", "").split())


def _title_unit_name(name: str) -> str:
    """``QUAN HOÁ`` -> ``Quan Hoá``."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in name.split())


def _format_org(line: str) -> tuple[str, str, str]:
    """An upper-case header line as (display name, unit word, place name)."""
    m = _ORG_UNIT.match(line)
    if m:
        unit, name = _UNIT_WORDS[m.group("unit")], _title_unit_name(m.group("name"))
        return f"UBND {unit} {name}", unit, name
    for upper, display in _AGENCIES.items():
        if line.startswith(upper):
            return display, "", ""
    return line[:1] + line[1:].lower(), "", ""


def extract_metadata(text: str) -> DocumentMetadata:
    """Read type, number, issuer, place/date, title, signer and administrative units from ``text``."""
    lines = [_clean(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    head = lines[:40]

    number = ""
    date_idx = None
    place = date = date_text = ""
    year: int | None = None
    doc_type = ""
    title = ""
    header_orgs: list[str] = []
    for i, line in enumerate(head):
        if not number:
            m = _NUMBER.match(line)
            if m:
                number = (m.group("num") or m.group("num2") or "").replace(" ", "")
                continue
        if date_idx is None:
            m = _DATE_LINE.match(line)
            if m:
                date_idx = i
                place = m.group("place").strip()
                d, mo, y = m.group("d"), m.group("m"), m.group("y")
                year = int(y)
                date = "-".join([y] + ([f"{int(mo):02d}"] if mo else []) + ([f"{int(d):02d}"] if mo and d else []))
                date_text = line[m.start("place") + len(m.group("place")) + 1:].strip()
                continue
            m = _NEWS_DATE.match(line)
            if m and i < 4:
                date_idx = i
                year = int(m.group("y"))
                date = f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
                date_text = line
                doc_type = doc_type or NEWS
                continue
        if not doc_type and line.upper() == line and line in DOC_TYPES:
            doc_type = DOC_TYPES[line]
            title = _following_title(head, i + 1)
            continue
        if line.startswith(("V/v", "v/v")) and not title:
            title = _vv_title(head, i)
            doc_type = doc_type or OFFICIAL_LETTER
        if line.startswith(("CỘNG HÒA", "CỘNG HOÀ")) and not header_orgs:
            header_orgs = _merge_council_lines([h for h in head[:i] if h.upper() == h and len(h) > 3])

    if not doc_type and number:
        code = number.split("/", 1)[-1].split("-", 1)[0].upper()
        doc_type = _TYPE_BY_CODE.get(code, OFFICIAL_LETTER if "UBND" in code else "")
    if doc_type == NEWS and not title:
        title = head[0]
    if not doc_type:
        doc_type = "Văn bản"

    province = _province(text, header_orgs, place)
    issuer = _issuer(text, header_orgs, number, place, province, doc_type)
    districts = _districts(text, head, place, issuer, province)
    if issuer.startswith("UBND huyện") and not districts:
        districts = (issuer.removeprefix("UBND huyện "),)
    signer, signer_role = _signature(lines)
    return DocumentMetadata(doc_type=doc_type, number=number, issuer=issuer, place=place, date=date,
                            date_text=date_text, year=year, title=title, signer=signer,
                            signer_role=signer_role, province=province, districts=districts)


def _merge_council_lines(lines: list[str]) -> list[str]:
    """``ỦY BAN NHÂN DÂN`` / ``HUYỆN CẨM THỦY`` on two lines is one body: ``ỦY BAN NHÂN DÂN HUYỆN CẨM THỦY``."""
    out: list[str] = []
    for line in lines:
        if out and out[-1] in _COUNCIL and _ORG_UNIT.match(line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _following_title(head: list[str], start: int) -> str:
    parts: list[str] = []
    for line in head[start:start + 4]:
        if _DATE_LINE.match(line) or line.startswith(("Kính gửi", "Căn cứ", "Thực hiện")) or re.match(r"^[IVX]+\.|^[0-9]+\.", line):
            break
        parts.append(line)
        if len(" ".join(parts)) > 60 or line.endswith("."):
            break
    return " ".join(parts).rstrip(".")


def _vv_title(head: list[str], start: int) -> str:
    parts = [head[start]]
    for line in head[start + 1:start + 5]:
        if _DATE_LINE.match(line) or line.startswith(("Kính gửi", "Số:")) or line.upper() == line:
            break
        parts.append(line)
    return " ".join(parts)


def _place_province(place: str, text: str) -> str | None:
    """The province the place line names, if it is one: spelled exactly as a province (``Phù Yên`` is a
    district, ``Phú Yên`` a province) and not called a district in the text (``huyện Điện Biên``)."""
    found = province_named(place)
    if not found or match_key(place) != match_key(found):
        return None
    if re.search(r"\b(?:huyện|Huyện|HUYỆN|thị xã)\s+" + re.escape(place) + r"\b", text):
        return None
    return found


def _province(text: str, header_orgs: list[str], place: str) -> str:
    for org in header_orgs:
        m = _ORG_UNIT.match(org)
        if m and m.group("unit") == "TỈNH":
            found = province_named(m.group("name"))
            if found:
                return found
    if place and _place_province(place, text):
        return _place_province(place, text) or ""
    # else the province the text names most ("tỉnh X" counts three times)
    body = canonical_tones(text)
    counts: Counter[str] = Counter()
    for province, pattern in _PROVINCE_PATTERNS:
        for m in pattern.finditer(body):
            counts[province] += 3 if m.group(1) else 1
    return counts.most_common(1)[0][0] if counts else ""


_PROVINCE_PATTERNS = [
    (p, re.compile(r"(?<!\w)(?<!xã )(?<!Xã )(?<!huyện )(?<!Huyện )(?<!phường )(?<!thôn )(?<!bản )"
                   r"(tỉnh\s+|Tỉnh\s+|TỈNH\s+)?(?:" + re.escape(canonical_tones(p)) + "|"
                   + re.escape(canonical_tones(p).upper()) + r")(?!\w)"))
    for p in PROVINCES if not p.startswith("TP.")]


def _issuer(text: str, header_orgs: list[str], number: str, place: str, province: str, doc_type: str) -> str:
    if header_orgs:
        formatted = [_format_org(o) for o in header_orgs]
        name, unit, unit_name = formatted[-1]
        if not unit and len(formatted) > 1 and formatted[-2][1]:
            parent_unit, parent_name = formatted[-2][1], formatted[-2][2]
            return f"{name} {parent_unit} {parent_name}"
        return name
    body = text[:4000]
    if place and not _place_province(place, text) and (
            "UBND" in number.upper() or re.search(r"\bUBND huyện\b|Ủy ban nhân dân huyện", body)):
        return f"UBND huyện {place}"
    if place and _place_province(place, text):
        return f"UBND tỉnh {_place_province(place, text)}"
    m = re.search(r"\b(Sở KH&CN|Sở Khoa học và Công nghệ)\b", body)
    if m:
        return f"{m.group(1)} tỉnh {province}" if province else m.group(1)
    m = re.search(r"\b(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân) (huyện|tỉnh) " + _NAME_WORDS, body)
    if m and capitalised_prefix(m.group(2)):
        return f"UBND {m.group(1)} {capitalised_prefix(m.group(2))}"
    return ""


def _districts(text: str, head: list[str], place: str, issuer: str, province: str) -> tuple[str, ...]:
    """Districts the document is about: named in its title/issuer/place line, or often in its body."""
    counts: Counter[str] = Counter()
    display: dict[str, str] = {}
    for m in _DISTRICT.finditer(text):
        name = capitalised_prefix(m.group(1))
        if not name:
            continue
        key = match_key(name)
        if name.isupper():
            name = _title_unit_name(name)
        display.setdefault(key, name)
        counts[key] += 1
    head_text = " ".join(head[:3]) + " " + issuer
    chosen: list[str] = []
    if place and not _place_province(place, text):
        key = match_key(place)
        if key in counts or issuer.startswith("UBND huyện"):
            display.setdefault(key, place)
            chosen.append(key)
    for key, n in counts.most_common():
        if key in chosen:
            continue
        in_head = key in match_key(head_text)
        if in_head or n >= 3:
            chosen.append(key)
    return tuple(display[k] for k in chosen)


def _signature(lines: list[str]) -> tuple[str, str]:
    """The signer's name and role from the closing block (``KT. CHỦ TỊCH`` / ``PHÓ CHỦ TỊCH`` / name)."""
    tail = lines[-12:]
    for i in range(len(tail) - 1, 0, -1):
        name = tail[i]
        words = name.split()
        if not (2 <= len(words) <= 5 and all(w[:1].isupper() for w in words)) or name.upper() == name:
            continue
        roles: list[str] = []
        j = i - 1
        while j >= 0 and tail[j].upper() == tail[j] and re.search(r"CHỦ TỊCH|GIÁM ĐỐC|TRƯỞNG|KT\.|TM\.|BÍ THƯ", tail[j]):
            roles.insert(0, tail[j])
            j -= 1
        if roles:
            role = roles[-1].split(".", 1)[-1].strip() if roles[-1].startswith(("KT.", "TM.")) else roles[-1]
            return name, role[:1] + role[1:].lower()
    return "", ""
