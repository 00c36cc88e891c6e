"""Unicode for LaTeX math: symbols, letter styles (ℝ, ℒ, 𝔤), sub- and superscript characters, accents."""

from __future__ import annotations

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ",
    "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω",
}

RELATIONS = {
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼", "simeq": "≃",
    "cong": "≅", "equiv": "≡", "propto": "∝", "triangleq": "≜", "ll": "≪", "gg": "≫", "in": "∈", "notin": "∉",
    "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "gets": "←", "leftrightarrow": "↔", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "Leftrightarrow": "⇔", "implies": "⟹", "iff": "⟺", "mapsto": "↦", "longrightarrow": "⟶", "perp": "⊥",
    "mid": "∣", "lt": "<", "gt": ">", "lesssim": "≲", "gtrsim": "≳", "prec": "≺", "succ": "≻",
}

SYMBOLS = {
    **GREEK,
    "sum": "∑", "prod": "∏", "coprod": "∐", "int": "∫", "iint": "∬", "iiint": "∭", "oint": "∮",
    "bigcup": "⋃", "bigcap": "⋂", "bigoplus": "⨁", "bigotimes": "⨂",
    "partial": "∂", "nabla": "∇", "infty": "∞", "times": "×", "cdot": "·", "circ": "∘", "bullet": "•",
    "otimes": "⊗", "odot": "⊙", "oplus": "⊕", "ominus": "⊖", "oslash": "⊘", "pm": "±", "mp": "∓", "div": "÷",
    "ast": "∗", "star": "⋆", "dagger": "†", "cup": "∪", "cap": "∩", "setminus": "∖", "backslash": "\\",
    "forall": "∀", "exists": "∃", "neg": "¬", "lnot": "¬", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨",
    "emptyset": "∅", "varnothing": "∅", "top": "⊤", "bot": "⊥", "angle": "∠", "prime": "′", "hbar": "ℏ",
    "ell": "ℓ", "Re": "ℜ", "Im": "ℑ", "aleph": "ℵ", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋",
    "lceil": "⌈", "rceil": "⌉", "Vert": "‖", "|": "‖", "vert": "|", "lvert": "|", "rvert": "|", "lVert": "‖",
    "rVert": "‖", "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "uparrow": "↑",
    "downarrow": "↓", "updownarrow": "↕", "Downarrow": "⇓", "Uparrow": "⇑", "square": "□", "blacksquare": "■",
    "checkmark": "✓", "S": "§", "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
    "lbrace": "{", "rbrace": "}", "colon": ":", "surd": "√", "degree": "°", "curvearrowright": "↷",
    "circlearrowright": "↻", "rightleftharpoons": "⇌",
}

SPACES = {",": " ", ":": " ", ";": " ", ">": " ", " ": " ", "quad": "  ", "qquad": "    ", "!": "", "enspace": " "}

FUNCTION_NAMES = {"log", "ln", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan",
                  "sinh", "cosh", "tanh", "coth", "max", "min", "sup", "inf", "lim", "liminf", "limsup", "arg",
                  "det", "dim", "ker", "deg", "gcd", "hom", "Pr", "mod", "bmod", "argmax", "argmin"}

BIG_OPERATORS = {"∑", "∏", "∐", "∫", "∬", "∭", "∮", "⋃", "⋂", "⨁", "⨂"}

IGNORED = {"limits", "nolimits", "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "small",
           "tiny", "large", "Large", "normalsize", "footnotesize", "scriptsize", "left", "right", "big", "Big",
           "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "middle", "nonumber", "notag",
           "hline", "hdashline", "relax", "strut", "noindent", "centering", "label", "require", "newcommand",
           "renewcommand", "def", "hspace", "vspace", "phantom", "vphantom", "hphantom", "color", "rm", "bf",
           "it", "cal"}

SUPERSCRIPT = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθφχ∗⊤′",
                       "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᵠᵡ*ᵀ′", strict=True))
SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True))

COMBINING = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
             "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c",
             "breve": "\u0306", "acute": "\u0301", "grave": "\u0300", "underline": "\u0332"}


def _alphabet(upper_start: int, lower_start: int | None, exceptions: dict[str, str]) -> dict[str, str]:
    table = {chr(ord("A") + i): chr(upper_start + i) for i in range(26)}
    if lower_start is not None:
        table.update({chr(ord("a") + i): chr(lower_start + i) for i in range(26)})
    table.update(exceptions)
    return table


LETTER_STYLES = {
    "mathbb": {**_alphabet(0x1D538, 0x1D552, dict(zip("CHNPQRZ", "ℂℍℕℙℚℝℤ", strict=True))),
               **{str(d): chr(0x1D7D8 + d) for d in range(10)}},
    "mathcal": _alphabet(0x1D49C, 0x1D4B6, dict(zip("BEFHILMRego", "ℬℰℱℋℐℒℳℛℯℊℴ", strict=True))),
    "mathscr": _alphabet(0x1D49C, 0x1D4B6, dict(zip("BEFHILMRego", "ℬℰℱℋℐℒℳℛℯℊℴ", strict=True))),
    "mathfrak": _alphabet(0x1D504, 0x1D51E, dict(zip("CHIRZ", "ℭℌℑℜℨ", strict=True))),
}
LETTER_STYLES["Bbb"] = LETTER_STYLES["mathbb"]
