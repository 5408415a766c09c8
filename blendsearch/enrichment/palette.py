"""The colour vocabulary and the fitted naming model: data only, kept apart from the code that uses it.

:data:`PALETTE` and :data:`COLOUR_FAMILIES` are public (display colours, colour words); :data:`_NAMING`
and the two weights are what :mod:`blendsearch.enrichment.colours` names a photo's clusters with.

The naming model (:data:`_NAMING`: a Lab centre, sigma and bias per name, and the two weights) was
fitted by maximum likelihood of the catalogue's ``baseColour`` given the clusters of the 35,277
``split=train`` photos of the fashion benchmark catalogue, plus jittered "textbook" examples of each
:data:`PALETTE` colour and of 66 CSS/X11 named colours, so that plain colours keep their everyday
names (pure red is Red, #000080 is Navy Blue; 36 of the 43 palette colours name themselves, the
others fall to a commoner neighbour, e.g. Charcoal -> Black). Textbook anchors with nearest-colour
naming named about a quarter of the photos right; the fitted model 57% (69% within the two names
returned), measured on ``split=test`` by :func:`blendsearch.enrichment.evaluate.colour_accuracy`;
figures in ``docs/catalogues-and-enrichment.md``.
"""

from __future__ import annotations

__all__ = ["COLOUR_FAMILIES", "PALETTE"]


#: Named colours (the fashion catalogue's ``baseColour`` vocabulary, less Multi, Metallic and Mushroom
#: Brown) and a typical sRGB value of each, for display and for matching colour words to colours.
PALETTE: dict[str, tuple[int, int, int]] = {
    "Black": (25, 25, 25),
    "White": (245, 245, 245),
    "Grey": (128, 128, 128),
    "Blue": (40, 90, 180),
    "Navy Blue": (30, 35, 70),
    "Red": (190, 30, 40),
    "Green": (40, 130, 60),
    "Brown": (110, 70, 40),
    "Pink": (235, 140, 170),
    "Purple": (110, 50, 130),
    "Yellow": (240, 210, 50),
    "Beige": (220, 200, 170),
    "Orange": (240, 120, 30),
    "Maroon": (110, 25, 40),
    "Olive": (110, 110, 50),
    "Cream": (245, 235, 210),
    "Silver": (195, 195, 200),
    "Gold": (200, 165, 80),
    "Khaki": (190, 175, 125),
    "Teal": (0, 120, 120),
    "Turquoise Blue": (40, 190, 210),
    "Peach": (250, 190, 160),
    "Lavender": (190, 170, 220),
    "Magenta": (200, 40, 140),
    "Charcoal": (60, 60, 65),
    "Off White": (240, 238, 228),
    "Mustard": (210, 165, 40),
    "Rust": (170, 75, 35),
    "Tan": (200, 150, 100),
    "Coffee Brown": (75, 50, 35),
    "Mauve": (180, 130, 160),
    "Burgundy": (120, 20, 50),
    "Sea Green": (50, 160, 120),
    "Lime Green": (150, 210, 50),
    "Fluorescent Green": (120, 255, 60),
    "Skin": (225, 180, 150),
    "Rose": (220, 110, 130),
    "Copper": (185, 105, 60),
    "Bronze": (150, 110, 50),
    "Nude": (225, 190, 165),
    "Steel": (150, 160, 170),
    "Taupe": (140, 125, 110),
    "Grey Melange": (170, 170, 170),
}

#: Each palette name's basic colour family (Berlin & Kay's basic colour terms, plus Beige).
COLOUR_FAMILIES: dict[str, str] = {
    "Black": "Black",
    "White": "White",
    "Grey": "Grey",
    "Blue": "Blue",
    "Navy Blue": "Blue",
    "Red": "Red",
    "Green": "Green",
    "Brown": "Brown",
    "Pink": "Pink",
    "Purple": "Purple",
    "Yellow": "Yellow",
    "Beige": "Beige",
    "Orange": "Orange",
    "Maroon": "Red",
    "Olive": "Green",
    "Cream": "White",
    "Silver": "Grey",
    "Gold": "Yellow",
    "Khaki": "Beige",
    "Teal": "Blue",
    "Turquoise Blue": "Blue",
    "Peach": "Orange",
    "Lavender": "Purple",
    "Magenta": "Pink",
    "Charcoal": "Grey",
    "Off White": "White",
    "Mustard": "Yellow",
    "Rust": "Orange",
    "Tan": "Brown",
    "Coffee Brown": "Brown",
    "Mauve": "Purple",
    "Burgundy": "Red",
    "Sea Green": "Green",
    "Lime Green": "Green",
    "Fluorescent Green": "Green",
    "Skin": "Beige",
    "Rose": "Pink",
    "Copper": "Brown",
    "Bronze": "Brown",
    "Nude": "Beige",
    "Steel": "Grey",
    "Taupe": "Brown",
    "Grey Melange": "Grey",
}

#: The naming model, fitted on the fashion catalogue's ``split=train`` photos (see the module docstring):
#: per name, the Lab centre (L, a, b), the spread sigma (delta E) and the bias (log weight, largest 0).
#: Centres sit where they separate names best in real photos (which are darker and duller than textbook
#: colours), so they differ from the display colours of PALETTE.
_NAMING: dict[str, tuple[float, float, float, float, float]] = {
    "Black": (16.8, -4.9, 16.0, 6.88, -2.49),
    "White": (88.6, 2.4, 1.8, 3.92, -5.08),
    "Grey": (55.6, -1.1, 6.0, 6.04, -5.07),
    "Blue": (48.0, 2.7, -50.7, 15.24, -5.22),
    "Navy Blue": (9.2, 16.2, -28.0, 12.12, -5.88),
    "Red": (49.8, 58.7, 28.1, 11.75, -2.88),
    "Green": (49.0, -34.2, 31.6, 8.75, -1.14),
    "Brown": (31.5, 12.5, 25.3, 5.63, -0.73),
    "Pink": (76.1, 54.2, 4.0, 9.01, -1.51),
    "Purple": (43.1, 42.8, -25.4, 9.78, -2.86),
    "Yellow": (86.6, -4.6, 72.1, 10.95, -2.91),
    "Beige": (73.9, 4.6, 19.2, 3.88, -4.14),
    "Orange": (66.5, 40.9, 62.7, 11.49, -2.96),
    "Maroon": (23.3, 39.3, 20.4, 8.85, -4.17),
    "Olive": (37.7, -14.2, 35.8, 6.01, 0.00),
    "Cream": (92.7, -0.0, 17.1, 5.19, -6.92),
    "Silver": (78.1, 0.7, 1.1, 2.94, -5.83),
    "Gold": (66.5, 3.3, 42.6, 8.41, -4.17),
    "Khaki": (66.8, -3.5, 30.1, 4.35, -3.31),
    "Teal": (42.5, -25.7, -7.3, 6.21, -7.33),
    "Turquoise Blue": (70.5, -30.4, -22.8, 14.30, -9.88),
    "Peach": (83.3, 20.1, 24.5, 4.93, -3.62),
    "Lavender": (75.1, 23.6, -21.4, 5.84, -3.98),
    "Magenta": (46.2, 68.0, -16.8, 10.83, -3.72),
    "Charcoal": (28.1, -1.0, 0.3, 3.89, -6.83),
    "Off White": (93.6, -0.7, 6.0, 3.74, -7.78),
    "Mustard": (69.0, 6.6, 65.5, 8.03, -3.23),
    "Rust": (43.5, 36.4, 41.4, 7.01, -3.44),
    "Tan": (64.6, 12.9, 33.2, 5.25, -3.52),
    "Coffee Brown": (23.7, 9.2, 15.8, 2.78, -2.23),
    "Mauve": (60.1, 24.4, -8.3, 4.36, -4.01),
    "Burgundy": (25.3, 44.8, 10.0, 6.53, -4.30),
    "Sea Green": (58.0, -39.5, 14.7, 4.63, -2.98),
    "Lime Green": (77.4, -42.6, 67.5, 10.10, -4.35),
    "Fluorescent Green": (90.2, -67.5, 76.4, 7.40, -4.71),
    "Skin": (75.8, 12.2, 22.1, 3.45, -3.76),
    "Rose": (59.9, 45.1, 9.5, 4.28, -2.39),
    "Copper": (52.1, 25.9, 38.9, 7.75, -3.94),
    "Bronze": (48.1, 11.4, 39.7, 6.91, -3.42),
    "Nude": (78.9, 9.3, 17.6, 2.28, -3.95),
    "Steel": (65.7, -1.1, -0.4, 3.54, -6.78),
    "Taupe": (53.0, 3.9, 11.3, 2.20, -4.50),
    "Grey Melange": (68.9, 0.1, 0.8, 2.91, -6.89),
}

#: Weights of the lightness and chroma differences against the hue difference when naming (fitted).
#: Shading and lighting change a photo's lightness and saturation far more than its hue, the same
#: reason the textile industry's CMC l:c colour difference tolerates lightness more (l = 2).
_LIGHTNESS_WEIGHT = 0.333
_CHROMA_WEIGHT = 0.399
