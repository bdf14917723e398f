"""Vietnamese provinces (the 63 units before the 2025 merger, as archives name them).

Districts are not listed: they are read from the text (``huyện Bình Liêu``), and a
district's province is the province its report names.
"""

from __future__ import annotations

from .vntext import fold

PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre",
    "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Cần Thơ",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang",
    "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên",
    "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An",
    "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình",
    "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "TP. Hồ Chí Minh", "Tiền Giang",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)

# folded name -> display name ("thanh hoa" -> "Thanh Hóa"); also short forms people type
PROVINCE_BY_FOLDED: dict[str, str] = {fold(p).replace(" - ", " "): p for p in PROVINCES}
PROVINCE_BY_FOLDED.update({"ho chi minh": "TP. Hồ Chí Minh", "hue": "Thừa Thiên Huế",
                           "ba ria vung tau": "Bà Rịa - Vũng Tàu"})
PROVINCE_BY_FOLDED.pop("tp. ho chi minh", None)


def province_named(name: str) -> str | None:
    """The canonical province for a name written any way (``thanh hoa``, ``Thanh Hoá``)."""
    key = " ".join(fold(name).replace("-", " ").replace("tinh ", "", 1).split())
    return PROVINCE_BY_FOLDED.get(key)
