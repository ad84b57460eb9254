"""The subset of ftfy.fix_text that CLIP's tokenizer cleaning relies on, without ftfy.

OpenAI's CLIP runs `ftfy.fix_text` on every caption before `html.unescape`. ftfy is not
installed here, so `fix_text` re-implements the fixes that change common captions. It
applies them in ftfy 6.x's order: HTML entities (only when the text has no "<"), terminal
escapes, UTF-8 read as Windows-1252 ("cafÃ©"), and C1 controls read as Windows-1252. Then
come Latin ligatures, fullwidth forms, curly quotes, line breaks, control characters and NFC.
"""

import html
import unicodedata

import regex

_TERMINAL_ESCAPE = regex.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_C1_CONTROL = regex.compile(r"[\x80-\x9f]")
_SINGLE_QUOTES = regex.compile(r"[\u02bc\u2018-\u201b]")
_DOUBLE_QUOTES = regex.compile(r"[\u201c-\u201f]")
_LINE_BREAKS = regex.compile(r"\r\n|[\r\u2028\u2029\x85]")
_LIGATURES = regex.compile(r"[\ufb00-\ufb06\u0132\u0133]")
# Fullwidth and halfwidth forms, and the ideographic space.
_WIDTH_FORMS = regex.compile(r"[\u3000\uff01-\uffef]")
# Control and format characters that ftfy deletes. Tab, line feed, carriage return and form
# feed are kept, so a form feed later becomes a space in CLIP's whitespace cleanup.
_CONTROL_CHARS = regex.compile(
    r"[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)
# The five Windows-1252 bytes in 0x80-0x9f that map to no character. ftfy's
# "sloppy-windows-1252" codec reads them as Latin-1, and so does this module.
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def fix_text(text: str) -> str:
    """Apply the ftfy fixes listed in the module docstring, in ftfy's order."""
    if "<" not in text:
        text = html.unescape(text)
    text = _TERMINAL_ESCAPE.sub("", text)
    text = _fix_mojibake(text)
    text = _C1_CONTROL.sub(lambda match: _decode_cp1252_byte(ord(match.group())), text)
    text = _LIGATURES.sub(lambda match: unicodedata.normalize("NFKC", match.group()), text)
    text = _WIDTH_FORMS.sub(lambda match: unicodedata.normalize("NFKC", match.group()), text)
    text = _SINGLE_QUOTES.sub("'", text)
    text = _DOUBLE_QUOTES.sub('"', text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL_CHARS.sub("", text)
    return unicodedata.normalize("NFC", text)


def _decode_cp1252_byte(byte: int) -> str:
    if byte in _CP1252_UNDEFINED:
        return chr(byte)
    return bytes([byte]).decode("cp1252")


def _encode_sloppy_cp1252(text: str) -> bytes | None:
    out = bytearray()
    for char in text:
        code = ord(char)
        if code < 0x80 or (0xA0 <= code <= 0xFF) or (code in _CP1252_UNDEFINED):
            out.append(code)
            continue
        try:
            out.extend(char.encode("cp1252"))
        except UnicodeEncodeError:
            return None
    return bytes(out)


def _fix_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as Windows-1252, when the whole text decodes cleanly.

    NOTE: ftfy scores candidate fixes and can repair mojibake mixed with other scripts. This
    only tries the whole text, so mixed text such as "cafÃ© 中文" stays unfixed.
    """
    if text.isascii():
        return text
    encoded = _encode_sloppy_cp1252(text)
    if encoded is None:
        return text
    try:
        decoded = encoded.decode("utf-8")
    except UnicodeDecodeError:
        return text
    return decoded
