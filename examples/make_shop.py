"""Regenerate the example shop: simple product drawings on a white studio background (CC0, made here).

python examples/make_shop.py
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent / "shop"

SHAPES = {
    "tshirt": [
        (14, 10),
        (26, 6),
        (38, 6),
        (50, 10),
        (58, 22),
        (48, 26),
        (46, 58),
        (18, 58),
        (16, 26),
        (6, 22),
    ],
    "trousers": [(18, 6), (46, 6), (50, 58), (36, 58), (32, 24), (28, 58), (14, 58)],
    "dress": [(24, 6), (40, 6), (42, 22), (54, 58), (10, 58), (22, 22)],
    "shoe": [(6, 40), (30, 36), (40, 26), (52, 28), (58, 44), (58, 52), (6, 52)],
    "bag": [(12, 22), (52, 22), (56, 58), (8, 58)],
    "cap": [(14, 36), (20, 18), (32, 12), (44, 18), (50, 36), (62, 40), (14, 40)],
}
COLOURS = {
    "Red": (200, 30, 35),
    "Navy Blue": (25, 35, 90),
    "Blue": (40, 90, 200),
    "Black": (20, 20, 20),
    "Green": (40, 140, 60),
    "Yellow": (235, 200, 40),
    "Pink": (235, 130, 170),
    "Brown": (120, 75, 40),
    "Purple": (110, 50, 140),
    "Grey": (128, 128, 128),
}
PRODUCTS = [
    ("tshirt", "Red", "Men", "Crew neck cotton t-shirt"),
    ("tshirt", "Navy Blue", "Men", "Slim fit polo t-shirt"),
    ("tshirt", "Yellow", "Women", "Relaxed linen t-shirt"),
    ("tshirt", "Green", "Unisex", "Organic cotton tee"),
    ("trousers", "Black", "Men", "Formal wool trousers"),
    ("trousers", "Blue", "Women", "High waist denim jeans"),
    ("trousers", "Brown", "Men", "Chino trousers"),
    ("trousers", "Grey", "Women", "Jogger track pants"),
    ("dress", "Red", "Women", "Wrap midi dress"),
    ("dress", "Purple", "Women", "Satin evening gown"),
    ("dress", "Pink", "Girls", "Floral summer dress"),
    ("shoe", "Black", "Men", "Leather oxford shoes"),
    ("shoe", "Blue", "Women", "Running sneakers"),
    ("shoe", "Brown", "Men", "Suede desert boots"),
    ("shoe", "Red", "Women", "Canvas sneakers"),
    ("bag", "Brown", "Women", "Leather tote bag"),
    ("bag", "Black", "Unisex", "Laptop backpack"),
    ("bag", "Pink", "Women", "Quilted handbag"),
    ("cap", "Navy Blue", "Men", "Baseball cap"),
    ("cap", "Green", "Unisex", "Bucket hat"),
    # image-only items: no title, found through generated colours / description and image similarity
    ("dress", "Blue", "Women", None),
    ("tshirt", "Black", "Men", None),
    ("shoe", "Yellow", "Women", None),
    ("bag", "Red", "Women", None),
]
KIND = {
    "tshirt": "Tshirts",
    "trousers": "Trousers",
    "dress": "Dresses",
    "shoe": "Shoes",
    "bag": "Bags",
    "cap": "Caps",
}


def draw(shape: str, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (64, 64), (248, 248, 248))
    ImageDraw.Draw(image).polygon(SHAPES[shape], fill=colour, outline=tuple(max(c - 40, 0) for c in colour))
    return image


def main() -> None:
    (HERE / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (shape, colour, gender, title) in enumerate(PRODUCTS, start=1):
        pid = f"p{number:03d}"
        draw(shape, COLOURS[colour]).save(HERE / "images" / f"{pid}.png", optimize=True)
        row: dict[str, object] = {"id": pid, "image": f"images/{pid}.png", "price": 10 + 7 * number % 90}
        if title:
            row.update({"title": title, "gender": gender, "articleType": KIND[shape], "colour": colour})
        lines.append(json.dumps(row))
    (HERE / "catalog.jsonl").write_text("\n".join(lines) + "\n")
    notice = "The example images and catalogue were drawn by blendsearch's make_shop.py: CC0.\n"
    (HERE / "LICENSE").write_text(notice)


if __name__ == "__main__":
    main()
