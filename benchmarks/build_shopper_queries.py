"""A third wording set, written by hand: how shoppers ask, in words neither generator uses.

The dev queries use the catalogue's words; ``unlike-test.jsonl`` departs from them with the evaluation's
word lists (``blendsearch.eval.wordlists``); ``calibrate --auto`` and ``tune --auto`` generate theirs from
the expansion's tables. These 170-odd queries were written by a developer from everyday shop language
(colloquial names, longer descriptions, possessives, natural misspellings, occasions) without reading
either table, so they measure transfer to wording that no part of the project was fitted or checked on.
Judgement rule as for the dev queries (first key primary; colour families and unisex-aware genders as in
``queries-dev.jsonl``). Queries with fewer than 3 gain-2 products in the test split are dropped.

    python benchmarks/build_shopper_queries.py --catalog ../shared/datasets/fashion-products/products.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from blendsearch.eval.judgements import read_catalog

HERE = Path(__file__).resolve().parent

MEN, WOMEN, BOYS, GIRLS, KIDS = ["Men", "Unisex"], ["Women", "Unisex"], ["Boys"], ["Girls"], ["Boys", "Girls"]
COLOURS = {
    "beige": ["Beige", "Cream", "Skin", "Nude"],
    "black": ["Black"],
    "blue": ["Blue", "Navy Blue", "Turquoise Blue"],
    "brown": ["Brown", "Coffee Brown", "Mushroom Brown", "Tan", "Taupe"],
    "gold": ["Gold", "Bronze", "Copper"],
    "green": ["Green", "Olive", "Sea Green", "Lime Green", "Fluorescent Green"],
    "grey": ["Grey", "Grey Melange", "Charcoal", "Steel"],
    "maroon": ["Maroon", "Burgundy"],
    "navy": ["Navy Blue"],
    "olive": ["Olive"],
    "orange": ["Orange", "Rust", "Peach"],
    "pink": ["Pink", "Rose"],
    "purple": ["Purple", "Lavender", "Mauve", "Magenta"],
    "red": ["Red", "Maroon", "Burgundy"],
    "silver": ["Silver", "Steel", "Metallic"],
    "white": ["White", "Off White"],
    "yellow": ["Yellow", "Mustard"],
}
SHOES = ["Casual Shoes", "Sports Shoes"]

# (query, kinds, article types, colour family or None, genders or None, usage or None)
SPEC: list[tuple[str, str, list[str], str | None, list[str] | None, str | None]] = [
    ("sneakers for men", "colloquial", SHOES, None, MEN, None),
    ("white sneakers", "colloquial", SHOES, "white", None, None),
    ("running trainers", "colloquial", ["Sports Shoes"], None, None, None),
    ("jogging shoes women", "colloquial", ["Sports Shoes"], None, WOMEN, None),
    ("gym shoes black", "colloquial", ["Sports Shoes"], "black", None, None),
    ("office shoes for men", "occasion", ["Formal Shoes"], None, MEN, None),
    ("black leather lace-ups", "colloquial", ["Formal Shoes", "Casual Shoes"], "black", None, None),
    ("brown oxfords", "colloquial", ["Formal Shoes"], "brown", None, None),
    ("stilettos", "colloquial", ["Heels"], None, None, None),
    ("red pumps", "colloquial", ["Heels"], "red", None, None),
    ("high heels for a party", "occasion", ["Heels"], None, None, None),
    ("beach slippers", "colloquial", ["Flip Flops"], None, None, None),
    ("rubber chappals men", "colloquial", ["Flip Flops", "Sandals"], None, MEN, None),
    ("thong sandals women", "colloquial", ["Flip Flops", "Sandals"], None, WOMEN, None),
    ("strappy sandals ladies", "colloquial", ["Sandals", "Flats"], None, WOMEN, None),
    ("ballet flats", "colloquial", ["Flats"], None, None, None),
    ("black ballerinas", "colloquial", ["Flats"], "black", None, None),
    ("loafers men", "colloquial", ["Casual Shoes", "Formal Shoes"], None, MEN, None),
    ("kids sports shoes", "colloquial", ["Sports Shoes"], None, KIDS, None),
    ("navy canvas shoes", "colloquial", ["Casual Shoes"], "navy", None, None),
    ("floaters men", "colloquial", ["Sandals", "Sports Sandals"], None, MEN, None),
    ("tee shirt for men", "colloquial", ["Tshirts"], None, MEN, None),
    ("round neck tees women", "colloquial", ["Tshirts"], None, WOMEN, None),
    ("navy polo shirt", "colloquial", ["Tshirts"], "navy", None, None),
    ("black graphic tee", "colloquial", ["Tshirts"], "black", None, None),
    ("workout tshirt", "occasion", ["Tshirts"], None, None, "Sports"),
    ("dri fit tee men", "colloquial", ["Tshirts"], None, MEN, None),
    ("white formal shirt for men", "descriptive", ["Shirts"], "white", MEN, None),
    ("blue button down shirt", "colloquial", ["Shirts"], "blue", None, None),
    ("checked casual shirt men", "descriptive", ["Shirts"], None, MEN, "Casual"),
    ("denim shirt", "colloquial", ["Shirts"], None, None, None),
    ("linen shirt for summer", "occasion", ["Shirts"], None, None, None),
    ("ladies blouse", "colloquial", ["Tops", "Shirts"], None, WOMEN, None),
    ("pink top girls", "colloquial", ["Tops"], "pink", GIRLS, None),
    ("crop top", "colloquial", ["Tops"], None, None, None),
    ("tank top women", "colloquial", ["Tops"], None, WOMEN, None),
    ("hoodie men", "colloquial", ["Sweatshirts"], None, MEN, None),
    ("grey hoodie", "colloquial", ["Sweatshirts"], "grey", None, None),
    ("pullover for women", "colloquial", ["Sweaters"], None, WOMEN, None),
    ("navy jumper", "colloquial", ["Sweaters"], "navy", None, None),
    ("cardigan", "colloquial", ["Sweaters"], None, None, None),
    ("winter jacket men", "occasion", ["Jackets"], None, MEN, None),
    ("black bomber jacket", "colloquial", ["Jackets"], "black", None, None),
    ("windcheater", "colloquial", ["Jackets"], None, None, None),
    ("sweatshirt for the gym", "occasion", ["Sweatshirts"], None, None, "Sports"),
    ("kurti for office", "occasion", ["Kurtis", "Kurtas"], None, WOMEN, None),
    ("ethnic kurta men", "descriptive", ["Kurtas"], None, MEN, "Ethnic"),
    ("white chikan kurta", "colloquial", ["Kurtas", "Kurtis"], "white", None, None),
    ("long tunic", "colloquial", ["Tunics"], None, None, None),
    ("silk saree", "colloquial", ["Sarees"], None, None, None),
    ("red sari for a wedding", "occasion", ["Sarees"], "red", None, None),
    ("black party dress", "occasion", ["Dresses"], "black", None, None),
    ("maxi dress", "colloquial", ["Dresses"], None, None, None),
    ("summer frock", "colloquial", ["Dresses"], None, None, None),
    ("yellow sundress", "colloquial", ["Dresses"], "yellow", None, None),
    ("mini skirt", "colloquial", ["Skirts"], None, None, None),
    ("pleated skirt", "colloquial", ["Skirts"], None, None, None),
    ("blue denims men", "colloquial", ["Jeans"], "blue", MEN, None),
    ("skinny jeans women", "colloquial", ["Jeans"], None, WOMEN, None),
    ("black jeggings", "colloquial", ["Leggings", "Jeans"], "black", None, None),
    ("chinos men", "colloquial", ["Trousers"], None, MEN, None),
    ("grey formal pants", "colloquial", ["Trousers"], "grey", None, None),
    ("office trousers for women", "occasion", ["Trousers"], None, WOMEN, None),
    ("joggers men", "colloquial", ["Track Pants", "Lounge Pants"], None, MEN, None),
    ("sweatpants", "colloquial", ["Track Pants", "Lounge Pants"], None, None, None),
    ("gym shorts men", "occasion", ["Shorts"], None, MEN, None),
    ("bermudas", "colloquial", ["Shorts"], None, None, None),
    ("three fourths pants", "colloquial", ["Capris"], None, None, None),
    ("black tights", "colloquial", ["Leggings"], "black", None, None),
    ("yoga pants women", "colloquial", ["Leggings", "Track Pants"], None, WOMEN, None),
    ("underwear men", "colloquial", ["Briefs", "Trunk", "Boxers", "Innerwear Vests"], None, MEN, None),
    ("boxer shorts", "colloquial", ["Boxers", "Trunk"], None, None, None),
    ("vest for men", "colloquial", ["Innerwear Vests"], None, MEN, None),
    ("bralette", "colloquial", ["Bra"], None, None, None),
    ("black padded bra", "descriptive", ["Bra"], "black", None, None),
    ("pyjamas women", "colloquial", ["Night suits", "Lounge Pants", "Nightdress"], None, WOMEN, None),
    ("nighty", "colloquial", ["Nightdress"], None, None, None),
    ("sleepwear set", "colloquial", ["Night suits"], None, None, None),
    ("ankle socks", "colloquial", ["Socks"], None, None, None),
    ("pack of socks for men", "descriptive", ["Socks"], None, MEN, None),
    ("wristwatch men", "colloquial", ["Watches"], None, MEN, None),
    ("gold ladies watch", "colloquial", ["Watches"], "gold", WOMEN, None),
    ("analog watch with black strap", "descriptive", ["Watches"], "black", None, None),
    ("digital sports watch", "descriptive", ["Watches"], None, None, None),
    ("shades for men", "colloquial", ["Sunglasses"], None, MEN, None),
    ("aviators", "colloquial", ["Sunglasses"], None, None, None),
    ("black cooling glasses", "colloquial", ["Sunglasses"], "black", None, None),
    ("purse for women", "colloquial", ["Handbags", "Wallets", "Clutches"], None, WOMEN, None),
    ("tote bag", "colloquial", ["Handbags"], None, None, None),
    ("brown shoulder bag", "colloquial", ["Handbags"], "brown", None, None),
    ("sling bag women", "colloquial", ["Handbags", "Messenger Bag"], None, WOMEN, None),
    ("evening clutch", "occasion", ["Clutches"], None, None, None),
    ("gold clutch bag", "colloquial", ["Clutches"], "gold", None, None),
    ("leather wallet men", "descriptive", ["Wallets"], None, MEN, None),
    ("brown billfold", "colloquial", ["Wallets"], "brown", None, None),
    ("school bag", "colloquial", ["Backpacks"], None, None, None),
    ("rucksack for travel", "colloquial", ["Backpacks", "Duffel Bag"], None, None, None),
    ("black laptop backpack", "descriptive", ["Backpacks", "Laptop Bag"], "black", None, None),
    ("gym bag", "occasion", ["Duffel Bag", "Backpacks"], None, None, None),
    ("travel duffle", "colloquial", ["Duffel Bag"], None, None, None),
    ("leather belt men", "descriptive", ["Belts"], None, MEN, None),
    ("black belt for jeans", "descriptive", ["Belts"], "black", None, None),
    ("baseball cap", "colloquial", ["Caps"], None, None, None),
    ("blue cap for men", "descriptive", ["Caps"], "blue", MEN, None),
    ("necktie", "colloquial", ["Ties"], None, None, None),
    ("red silk tie", "descriptive", ["Ties"], "red", None, None),
    ("cuff links", "colloquial", ["Cufflinks"], None, None, None),
    ("muffler", "colloquial", ["Scarves", "Stoles"], None, None, None),
    ("woollen scarf", "descriptive", ["Scarves"], None, None, None),
    ("red dupatta", "colloquial", ["Dupatta"], "red", None, None),
    ("stole for women", "colloquial", ["Stoles"], None, WOMEN, None),
    ("stud earrings", "colloquial", ["Earrings"], None, None, None),
    ("jhumkas", "colloquial", ["Earrings"], None, None, None),
    ("gold chain", "colloquial", ["Necklace and Chains"], "gold", None, None),
    ("locket", "colloquial", ["Pendant"], None, None, None),
    ("silver finger ring", "colloquial", ["Ring"], "silver", None, None),
    ("bangles", "colloquial", ["Bangle", "Bracelet"], None, None, None),
    ("bracelet for men", "descriptive", ["Bracelet"], None, MEN, None),
    ("bridal jewellery", "occasion", ["Jewellery Set"], None, None, None),
    ("phone pouch", "colloquial", ["Mobile Pouch"], None, None, None),
    ("perfume for men", "descriptive", ["Perfume and Body Mist"], None, MEN, None),
    ("body spray for women", "colloquial", ["Perfume and Body Mist", "Deodorant"], None, WOMEN, None),
    ("deo for men", "colloquial", ["Deodorant"], None, MEN, None),
    ("perfume gift box", "colloquial", ["Fragrance Gift Set"], None, None, None),
    ("red lipstick", "descriptive", ["Lipstick"], "red", None, None),
    ("nude lipstick", "colloquial", ["Lipstick"], "beige", None, None),
    ("pink lip gloss", "descriptive", ["Lip Gloss"], "pink", None, None),
    ("nail paint", "colloquial", ["Nail Polish"], None, None, None),
    ("red nail varnish", "colloquial", ["Nail Polish"], "red", None, None),
    ("black eyeliner", "descriptive", ["Kajal and Eyeliner"], "black", None, None),
    ("kohl pencil", "colloquial", ["Kajal and Eyeliner"], None, None, None),
    ("eye shadow palette", "colloquial", ["Eyeshadow"], None, None, None),
    ("makeup base", "colloquial", ["Foundation and Primer"], None, None, None),
    ("face cream", "colloquial", ["Face Moisturisers"], None, None, None),
    ("pressed powder", "colloquial", ["Compact"], None, None, None),
    ("a navy blue polo for my husband", "descriptive", ["Tshirts"], "navy", MEN, None),
    ("comfortable white trainers for women", "descriptive", SHOES, "white", WOMEN, None),
    ("pink handbag for my daughter", "descriptive", ["Handbags"], "pink", None, None),
    ("green tshirt for boys", "descriptive", ["Tshirts"], "green", BOYS, None),
    ("purple kurta for women", "descriptive", ["Kurtas", "Kurtis"], "purple", WOMEN, None),
    ("maroon ethnic kurta for men", "descriptive", ["Kurtas"], "maroon", MEN, None),
    ("grey marl sweatshirt", "colloquial", ["Sweatshirts"], "grey", None, None),
    ("olive cargo shorts", "colloquial", ["Shorts"], "olive", None, None),
    ("yellow summer top", "occasion", ["Tops"], "yellow", None, None),
    ("black office shoes for men", "occasion", ["Formal Shoes"], "black", MEN, None),
    ("silver watch for women", "descriptive", ["Watches"], "silver", WOMEN, None),
    ("blue jeans for boys", "descriptive", ["Jeans"], "blue", BOYS, None),
    ("white canvas sneakers women", "colloquial", ["Casual Shoes"], "white", WOMEN, None),
    ("orange tee", "colloquial", ["Tshirts"], "orange", None, None),
    ("dark grey trousers", "descriptive", ["Trousers"], "grey", None, None),
    ("red running shoes", "colloquial", ["Sports Shoes"], "red", None, None),
    ("beige chinos", "colloquial", ["Trousers"], "beige", None, None),
    ("maroon sweater", "descriptive", ["Sweaters"], "maroon", None, None),
    ("sky blue shirt", "descriptive", ["Shirts"], "blue", None, None),
    ("black sling bag", "colloquial", ["Handbags", "Messenger Bag"], "black", None, None),
    ("tan belt", "colloquial", ["Belts"], "brown", None, None),
    ("gold earrings", "descriptive", ["Earrings"], "gold", None, None),
    ("white socks", "descriptive", ["Socks"], "white", None, None),
    ("pink sandals for girls", "descriptive", ["Sandals", "Flats", "Flip Flops"], "pink", GIRLS, None),
    ("men's navy cap", "descriptive", ["Caps"], "navy", MEN, None),
    ("womens black heels", "descriptive", ["Heels"], "black", WOMEN, None),
    ("mens brown wallet", "descriptive", ["Wallets"], "brown", MEN, None),
    ("kids tshirts", "colloquial", ["Tshirts"], None, KIDS, None),
    ("teen girls top", "colloquial", ["Tops"], None, GIRLS, None),
    ("sneekers", "misspelt", SHOES, None, None, None),
    ("sunglases for women", "misspelt", ["Sunglasses"], None, WOMEN, None),
    ("jeens men", "misspelt", ["Jeans"], None, MEN, None),
    ("white tshrt", "misspelt", ["Tshirts"], "white", None, None),
    ("handbag for ledies", "misspelt", ["Handbags"], None, WOMEN, None),
    ("wallett", "misspelt", ["Wallets"], None, None, None),
    ("purfume women", "misspelt", ["Perfume and Body Mist"], None, WOMEN, None),
    ("brasier", "misspelt", ["Bra"], None, None, None),
    ("black trousres", "misspelt", ["Trousers"], "black", None, None),
    ("braclet", "misspelt", ["Bracelet"], None, None, None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "queries" / "shopper-test.jsonl")
    args = parser.parse_args()
    catalog = read_catalog(args.catalog)
    test = set(catalog.ids("test"))
    kept, dropped = [], []
    for text, kind, kinds_of_product, colour, gender, usage in SPEC:
        match: dict[str, list[str]] = {"articleType": kinds_of_product}
        if colour:
            match["baseColour"] = COLOURS[colour]
        if gender:
            match["gender"] = gender
        if usage:
            match["usage"] = [usage]
        relevant = len(test.intersection(*(catalog.ids_with(k, v) for k, v in match.items())))
        row = {
            "qid": f"s{len(kept):04d}",
            "query": text,
            "match": match,
            "relevant": relevant,
            "kinds": [kind],
        }
        (kept if relevant >= 3 else dropped).append(row)
    args.out.write_text("".join(json.dumps(row) + "\n" for row in kept))
    print(f"wrote {len(kept)} queries to {args.out}; dropped {len(dropped)} with fewer than 3 matches:")
    for row in dropped:
        print(f"  {row['query']!r}: {row['relevant']}")


if __name__ == "__main__":
    main()
