"""GPT-2 byte-level BPE and CLIP BPE tokenizers, matching OpenAI's reference implementations.

`GPT2Tokenizer` reproduces openai/gpt-2 `src/encoder.py`, and `CLIPTokenizer` reproduces
openai/CLIP `simple_tokenizer.py` and `clip.tokenize`. CLIP's ftfy step is replaced by
`clip_text_fixes.fix_text`, a re-implementation of the ftfy fixes that captions need.

Both read the vocabulary files that OpenAI publishes: GPT-2's encoder.json and vocab.bpe, and
CLIP's bpe_simple_vocab_16e6.txt.gz.
"""

import gzip
import html
import json
from pathlib import Path

import regex

from .clip_text_fixes import fix_text

# The vocabulary folder sits beside the repository in a folder named `shared` (in CI too).
DEFAULT_VOCAB_DIR = Path(__file__).resolve().parents[3] / "shared" / "vocab"

GPT2_END_OF_TEXT = "<|endoftext|>"
GPT2_END_OF_TEXT_ID = 50256

# GPT-2's pre-tokenizer split, from encoder.py. The contractions are case-sensitive there.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

CLIP_START_OF_TEXT = "<|startoftext|>"
CLIP_END_OF_TEXT = "<|endoftext|>"
CLIP_START_OF_TEXT_ID = 49406
CLIP_END_OF_TEXT_ID = 49407
CLIP_PAD_ID = 0
CLIP_CONTEXT_LENGTH = 77
# CLIP reads lines 1 to 49152 - 256 - 2 = 48894 of its merges file, which gives 256 byte
# symbols + 256 end-of-word symbols + 48894 merges + 2 special tokens = 49408 tokens.
CLIP_MERGE_COUNT = 49152 - 256 - 2
CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
CLIP_END_OF_WORD = "</w>"


def bytes_to_unicode() -> dict[int, str]:
    """Map every byte to a printable character, as GPT-2 and CLIP do before BPE.

    Bytes that are printable Latin-1 characters map to themselves. The other 68 bytes
    (controls, space, 0x7f-0xa0 and 0xad) map to U+0100 upwards in byte order, so a space
    becomes "Ġ" (U+0120) and a newline "Ċ" (U+010A).
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {byte: chr(byte) for byte in printable}
    next_code = 256
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(next_code)
            next_code += 1
    return mapping


class BytePairEncoder:
    """The merge loop shared by GPT-2 and CLIP: merge the best-ranked adjacent pair until none is left."""

    def __init__(self, merges: list[tuple[str, str]]) -> None:
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self._cache: dict[tuple[str, ...], list[str]] = {}

    def merge(self, symbols: tuple[str, ...]) -> list[str]:
        """Return the BPE symbols of one pre-token, given as its initial symbols."""
        cached = self._cache.get(symbols)
        if cached is not None:
            return cached

        word = list(symbols)
        while len(word) > 1:
            best_rank = None
            best_pair = None
            for pair in zip(word, word[1:]):
                rank = self.ranks.get(pair)
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank = rank
                    best_pair = pair
            if best_pair is None:
                break

            # Merge every occurrence of the pair, scanning left to right without overlaps.
            first, second = best_pair
            merged = []
            index = 0
            while index < len(word):
                if index + 1 < len(word) and word[index] == first and word[index + 1] == second:
                    merged.append(first + second)
                    index += 2
                else:
                    merged.append(word[index])
                    index += 1
            word = merged

        self._cache[symbols] = word
        return word


class GPT2Tokenizer:
    """GPT-2 byte-level BPE. `<|endoftext|>` (50256) is the begin, end and padding token.

    `encode` treats the text "<|endoftext|>" as plain characters, as the reference does, so id
    50256 appears only where a caller adds it.
    """

    end_of_text_id = GPT2_END_OF_TEXT_ID

    def __init__(self, encoder: dict[str, int], merges: list[tuple[str, str]]) -> None:
        self.encoder = encoder
        self.decoder = {token_id: token for token, token_id in encoder.items()}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {char: byte for byte, char in self.byte_encoder.items()}
        self.bpe = BytePairEncoder(merges)
        self.pattern = regex.compile(GPT2_PATTERN)

    @classmethod
    def from_files(cls, encoder_json: Path, vocab_bpe: Path) -> "GPT2Tokenizer":
        """Load OpenAI's encoder.json and vocab.bpe (its first line is a version header)."""
        encoder = json.loads(Path(encoder_json).read_text(encoding="utf-8"))
        lines = Path(vocab_bpe).read_text(encoding="utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1:] if line]
        return cls(encoder, merges)

    @classmethod
    def from_vocab_dir(cls, vocab_dir: Path = DEFAULT_VOCAB_DIR) -> "GPT2Tokenizer":
        """Load from `<vocab_dir>/gpt2/encoder.json` and `vocab.bpe`."""
        folder = Path(vocab_dir) / "gpt2"
        return cls.from_files(folder / "encoder.json", folder / "vocab.bpe")

    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    def pretokenize(self, text: str) -> list[str]:
        return self.pattern.findall(text)

    def encode(self, text: str) -> list[int]:
        ids = []
        for pretoken in self.pretokenize(text):
            symbols = tuple(self.byte_encoder[byte] for byte in pretoken.encode("utf-8"))
            ids.extend(self.encoder[symbol] for symbol in self.bpe.merge(symbols))
        return ids

    def token_bytes(self, token_id: int) -> bytes:
        """Return the raw bytes of one token, which may be a partial UTF-8 sequence."""
        return bytes(self.byte_decoder[char] for char in self._token(token_id))

    def decode(self, ids: list[int]) -> str:
        """Decode ids to text. Invalid UTF-8 becomes U+FFFD, and 50256 becomes "<|endoftext|>"."""
        data = b"".join(self.token_bytes(token_id) for token_id in ids)
        return data.decode("utf-8", errors="replace")

    def _token(self, token_id: int) -> str:
        token = self.decoder.get(token_id)
        if token is None:
            raise ValueError(f"GPT-2 token id {token_id} is out of range; valid ids are 0 to {len(self.decoder) - 1}")
        return token


class CLIPTokenizer:
    """CLIP's lower-cased BPE with `</w>` end-of-word symbols and a 77-token context."""

    start_of_text_id = CLIP_START_OF_TEXT_ID
    end_of_text_id = CLIP_END_OF_TEXT_ID
    pad_id = CLIP_PAD_ID

    def __init__(self, merges: list[tuple[str, str]]) -> None:
        if len(merges) != CLIP_MERGE_COUNT:
            raise ValueError(f"CLIP needs {CLIP_MERGE_COUNT} merges, got {len(merges)}; pass lines 1..48894 of the file")
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {char: byte for byte, char in self.byte_encoder.items()}

        # Vocabulary order: 256 byte symbols, the same with "</w>", one entry per merge, specials.
        symbols = list(self.byte_encoder.values())
        vocab = symbols + [symbol + CLIP_END_OF_WORD for symbol in symbols]
        vocab.extend(first + second for first, second in merges)
        vocab.extend([CLIP_START_OF_TEXT, CLIP_END_OF_TEXT])
        self.encoder = {token: token_id for token_id, token in enumerate(vocab)}
        self.decoder = dict(enumerate(vocab))
        self.merges = merges
        self.bpe = BytePairEncoder(merges)
        self.pattern = regex.compile(CLIP_PATTERN, regex.IGNORECASE)

    @classmethod
    def from_file(cls, merges_gz: Path) -> "CLIPTokenizer":
        """Load bpe_simple_vocab_16e6.txt.gz, whose line 0 is a header and lines 1..48894 the merges."""
        with gzip.open(merges_gz, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1 : CLIP_MERGE_COUNT + 1]]
        return cls(merges)

    @classmethod
    def from_vocab_dir(cls, vocab_dir: Path = DEFAULT_VOCAB_DIR) -> "CLIPTokenizer":
        """Load from `<vocab_dir>/clip/bpe_simple_vocab_16e6.txt.gz`."""
        return cls.from_file(Path(vocab_dir) / "clip" / "bpe_simple_vocab_16e6.txt.gz")

    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    @staticmethod
    def clean(text: str) -> str:
        """Clean text as CLIP does: ftfy fixes, HTML unescaped twice, whitespace collapsed, lower case."""
        text = html.unescape(html.unescape(fix_text(text))).strip()
        text = regex.sub(r"\s+", " ", text).strip()
        return text.lower()

    def pretokenize(self, text: str) -> list[str]:
        return self.pattern.findall(self.clean(text))

    def encode(self, text: str) -> list[int]:
        """Return the BPE ids of `text` without start and end tokens."""
        ids = []
        for pretoken in self.pretokenize(text):
            if pretoken in (CLIP_START_OF_TEXT, CLIP_END_OF_TEXT):
                ids.append(self.encoder[pretoken])
                continue
            symbols = [self.byte_encoder[byte] for byte in pretoken.encode("utf-8")]
            symbols[-1] += CLIP_END_OF_WORD
            ids.extend(self.encoder[symbol] for symbol in self.bpe.merge(tuple(symbols)))
        return ids

    def tokenize(self, text: str, context_length: int = CLIP_CONTEXT_LENGTH, truncate: bool = True) -> list[int]:
        """Return `context_length` ids: start, BPE ids, end, then zero padding.

        A longer sequence is cut to `context_length` with the end token kept as the last id,
        or raises ValueError when `truncate` is False.
        """
        ids = [CLIP_START_OF_TEXT_ID, *self.encode(text), CLIP_END_OF_TEXT_ID]
        if len(ids) > context_length:
            if not truncate:
                raise ValueError(
                    f"text needs {len(ids)} tokens, more than the context length {context_length}; pass truncate=True"
                )
            ids = ids[:context_length]
            ids[-1] = CLIP_END_OF_TEXT_ID
        return ids + [CLIP_PAD_ID] * (context_length - len(ids))

    def decode(self, ids: list[int]) -> str:
        """Decode ids as CLIP does: each "</w>" becomes a space, so the text ends with one."""
        tokens = []
        for token_id in ids:
            token = self.decoder.get(token_id)
            if token is None:
                raise ValueError(f"CLIP token id {token_id} is out of range; valid ids are 0 to {len(self.decoder) - 1}")
            tokens.append(token)
        data = bytes(self.byte_decoder[char] for char in "".join(tokens))
        return data.decode("utf-8", errors="replace").replace(CLIP_END_OF_WORD, " ")
