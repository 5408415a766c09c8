"""The evaluation's OWN word lists: catalogue-word phrasings for tuning sets, and unlike-the-catalogue words.

These lists are deliberately independent of the query-expansion synonyms (``blendsearch.expansion``).
If expansion read the same list, the "unlike" test set would only measure whether a lookup table finds
its own entries: a circular test. Keep them separate; an overlap in common words ("tee", "navy") is
expected, a copied list is not.

Keys are the fashion catalogue's values (``articleType``, ``baseColour``, ``gender``, ``usage``); another
catalogue gets generated queries only for values these lists know.
"""

from __future__ import annotations

__all__ = [
    "COLOUR_FAMILIES",
    "GENDER_GROUPS",
    "GENDER_PHRASES",
    "SHADE_NAMES",
    "TYPE_NAMES",
    "TYPE_SYNONYMS",
    "USAGE_PHRASES",
    "colour_family",
]

#: Colour named in a query -> the catalogue colours that count as that colour (a judgement, not a synonym).
COLOUR_FAMILIES: dict[str, list[str]] = {
    "Black": ["Black"],
    "White": ["White", "Off White"],
    "Blue": ["Blue", "Navy Blue", "Turquoise Blue"],
    "Navy Blue": ["Navy Blue"],
    "Brown": ["Brown", "Coffee Brown", "Mushroom Brown", "Tan", "Taupe"],
    "Grey": ["Grey", "Grey Melange", "Charcoal", "Steel"],
    "Red": ["Red", "Maroon", "Burgundy"],
    "Maroon": ["Maroon", "Burgundy"],
    "Green": ["Green", "Olive", "Sea Green", "Lime Green", "Fluorescent Green"],
    "Olive": ["Olive"],
    "Pink": ["Pink", "Rose"],
    "Purple": ["Purple", "Lavender", "Mauve", "Magenta"],
    "Silver": ["Silver", "Steel", "Metallic"],
    "Yellow": ["Yellow", "Mustard"],
    "Beige": ["Beige", "Cream", "Skin", "Nude"],
    "Gold": ["Gold", "Bronze", "Copper"],
    "Orange": ["Orange", "Rust", "Peach"],
}

#: Gender named in a query -> catalogue genders that count (unisex items suit both adults).
GENDER_GROUPS: dict[str, list[str]] = {
    "Men": ["Men", "Unisex"],
    "Women": ["Women", "Unisex"],
    "Boys": ["Boys"],
    "Girls": ["Girls"],
}

#: Catalogue-word names of product kinds, plural as a shopper writes them to a shop.
TYPE_NAMES: dict[str, str] = {
    "Tshirts": "tshirts",
    "Shirts": "shirts",
    "Casual Shoes": "casual shoes",
    "Watches": "watches",
    "Sports Shoes": "sports shoes",
    "Tops": "tops",
    "Handbags": "handbags",
    "Kurtas": "kurtas",
    "Heels": "heels",
    "Sunglasses": "sunglasses",
    "Flip Flops": "flip flops",
    "Sandals": "sandals",
    "Belts": "belts",
    "Wallets": "wallets",
    "Briefs": "briefs",
    "Backpacks": "backpacks",
    "Socks": "socks",
    "Formal Shoes": "formal shoes",
    "Perfume and Body Mist": "perfumes",
    "Jeans": "jeans",
    "Trousers": "trousers",
    "Flats": "flats",
    "Shorts": "shorts",
    "Bra": "bras",
    "Dresses": "dresses",
    "Sarees": "sarees",
    "Deodorant": "deodorants",
    "Clutches": "clutches",
    "Caps": "caps",
    "Earrings": "earrings",
    "Nail Polish": "nail polishes",
    "Sweatshirts": "sweatshirts",
    "Ties": "ties",
    "Lipstick": "lipsticks",
    "Sweaters": "sweaters",
    "Jackets": "jackets",
    "Track Pants": "track pants",
    "Kurtis": "kurtis",
    "Innerwear Vests": "vests",
    "Pendant": "pendants",
    "Capris": "capris",
    "Leggings": "leggings",
    "Tunics": "tunics",
    "Night suits": "night suits",
    "Skirts": "skirts",
    "Nightdress": "nightdresses",
}

#: Words a shopper uses that the catalogue does not (its titles and attributes say the key instead).
TYPE_SYNONYMS: dict[str, list[str]] = {
    "Tshirts": ["tee", "tees", "crew neck tee", "graphic tee"],
    "Shirts": ["button down", "button-up", "collared top"],
    "Casual Shoes": ["sneakers", "loafers", "canvas trainers"],
    "Sports Shoes": ["sneakers", "running trainers", "athletic trainers", "runners"],
    "Watches": ["wristwatch", "timepiece", "wrist watch"],
    "Tops": ["blouse", "blouses"],
    "Handbags": ["purse", "tote", "shoulder bag"],
    "Heels": ["stilettos", "pumps", "high heeled sandals"],
    "Sunglasses": ["shades", "sunnies", "goggles"],
    "Flip Flops": ["chappals", "thongs", "slippers"],
    "Belts": ["waistband strap", "leather strap for waist"],
    "Wallets": ["billfold", "card holder"],
    "Briefs": ["underwear", "undies", "jockeys"],
    "Backpacks": ["rucksack", "knapsack", "school bag"],
    "Formal Shoes": ["oxfords", "brogues", "derbies", "office footwear"],
    "Perfume and Body Mist": ["fragrance", "scent", "eau de toilette", "cologne"],
    "Jeans": ["denims", "denim pants"],
    "Trousers": ["slacks", "chinos", "pants"],
    "Flats": ["ballerinas", "ballet pumps"],
    "Shorts": ["bermudas", "half pants"],
    "Bra": ["brassiere", "bralette"],
    "Dresses": ["frock", "gown", "sundress"],
    "Sarees": ["saris", "six yard drape"],
    "Deodorant": ["antiperspirant", "body spray", "roll on"],
    "Clutches": ["evening bag", "wristlet"],
    "Caps": ["baseball hat", "hat"],
    "Earrings": ["ear studs", "danglers", "jhumkas"],
    "Nail Polish": ["nail paint", "nail varnish", "nail enamel"],
    "Sweatshirts": ["hoodie", "hoody", "crewneck fleece"],
    "Ties": ["necktie", "cravat"],
    "Lipstick": ["lip tint", "lip shade", "lippie"],
    "Sweaters": ["jumper", "pullover", "knitwear"],
    "Jackets": ["coat", "windcheater", "bomber"],
    "Track Pants": ["joggers", "sweatpants", "trackies"],
    "Innerwear Vests": ["undershirt", "singlet", "banian"],
    "Pendant": ["locket"],
    "Capris": ["three quarter pants", "cropped pants", "pedal pushers"],
    "Leggings": ["tights", "jeggings"],
    "Night suits": ["pyjamas", "pajama set", "sleepwear set"],
    "Nightdress": ["nightie", "nightgown"],
    "Skirts": ["mini", "midi"],
}

#: Shade names the catalogue does not use, keyed by the colour family they belong to.
SHADE_NAMES: dict[str, list[str]] = {
    "Black": ["jet black", "ebony", "onyx", "noir"],
    "White": ["ivory", "snow white", "pearl white", "chalk"],
    "Blue": ["azure", "cobalt", "royal blue", "sky blue", "denim blue"],
    "Navy Blue": ["midnight", "midnight blue", "inky blue", "marine blue"],
    "Brown": ["chocolate", "cognac", "chestnut", "mocha"],
    "Grey": ["ash", "slate", "graphite", "smoke grey"],
    "Red": ["crimson", "scarlet", "cherry", "ruby"],
    "Maroon": ["wine", "oxblood", "bordeaux"],
    "Green": ["emerald", "bottle green", "mint", "jade"],
    "Olive": ["army green", "military green"],
    "Pink": ["blush", "fuchsia", "hot pink", "baby pink"],
    "Purple": ["aubergine", "plum", "violet", "lilac"],
    "Silver": ["chrome", "platinum", "silvery"],
    "Yellow": ["lemon", "canary", "sunflower"],
    "Beige": ["sand", "oatmeal", "camel"],
    "Gold": ["gilt", "brass", "gilded"],
    "Orange": ["tangerine", "apricot", "burnt orange"],
}

#: Ways of naming the shopper other than the catalogue's gender value.
GENDER_PHRASES: dict[str, list[str]] = {
    "Men": ["gents", "for him", "mens", "male", "for guys"],
    "Women": ["ladies", "for her", "womens", "female", "for gals"],
    "Boys": ["for a boy", "for my son", "young lads"],
    "Girls": ["for a girl", "for my daughter", "little miss"],
}

#: Ways of naming the occasion other than the catalogue's usage value.
USAGE_PHRASES: dict[str, list[str]] = {
    "Casual": ["everyday", "daily wear", "weekend"],
    "Formal": ["office", "business", "workwear"],
    "Sports": ["gym", "workout", "athletic", "training"],
    "Ethnic": ["traditional", "festive", "indian wear"],
}


def colour_family(colour: str) -> str | None:
    """The family a catalogue colour belongs to: its own when it names one, else the first holding it."""
    if colour in COLOUR_FAMILIES:
        return colour
    for family, members in COLOUR_FAMILIES.items():
        if colour in members:
            return family
    return None
