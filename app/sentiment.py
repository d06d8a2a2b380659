"""How a customer's comment sounds: positive, neutral or negative, computed offline.

VADER (vaderSentiment, MIT) scores English only; its lexicon means nothing in other
languages, so German praise would come out "neutral" and a complaint in French would
create no follow-up. The language is detected first (langdetect, Apache-2.0, with a
fixed seed so the same text always gets the same answer), and a text in another
language is reported as not scored (`supported=False`) rather than guessed at: the
UI says so in words (`SentimentResult.explanation`).

Short texts ("bad", "ok") are below what a character n-gram detector can judge; when
a text of a few words consists of English words VADER knows, it is taken as English.

Pure: no database, no Qt. The models load on first use (about a second, once), on the
worker thread that records the feedback.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple

from models.enums import Sentiment

# VADER's own thresholds on the compound score (its documentation, "About the Scoring").
POSITIVE_FROM = 0.05
NEGATIVE_UNTIL = -0.05
SUPPORTED_LANGUAGES = frozenset({"en"})
# Below this, langdetect's answer is noise (a coin toss between neighbouring languages).
_CONFIDENT = 0.50
_SHORT_WORDS = 3
_SEED = 0

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "tr": "Turkish",
    "ru": "Russian",
    "el": "Greek",
    "ar": "Arabic",
    "zh-cn": "Chinese",
    "zh-tw": "Chinese",
    "ja": "Japanese",
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_ENGLISH_FUNCTION_WORDS = frozenset(
    "a an and are but for from he i is it me my no not of on or so the they this to "
    "too very was we were with you your thanks thank please never again".split()
)


class SentimentResult(NamedTuple):
    sentiment: Sentiment
    score: float | None  # VADER's compound score, -1..1; None when not scored
    language: str | None  # e.g. "en", "de"; None when undetermined (empty text)
    supported: bool

    @property
    def explanation(self) -> str:
        """One sentence for the feedback dialog."""
        if not self.supported and self.language is None:
            return (
                "Sentiment not scored: the language of the text could not be told; "
                "only English is supported"
            )
        if not self.supported:
            name = language_name(self.language)
            return f"Sentiment not scored: text is in {name}; only English is supported"
        if self.score is None:
            return "No comment to score"
        return f"Sentiment: {self.sentiment.value} (score {self.score:+.2f})"


def language_name(code: str | None) -> str:
    if code is None:
        return "an unknown language"
    return LANGUAGE_NAMES.get(code, f"a language I cannot name ({code})")


def score(text: str | None) -> SentimentResult:
    """The sentiment of `text`: scored when English, else `supported=False` and neutral."""
    stripped = (text or "").strip()
    words = _WORD.findall(stripped.lower())
    if not words:
        return SentimentResult(Sentiment.NEUTRAL, None, None, True)
    language = detect_language(stripped, words)
    if language not in SUPPORTED_LANGUAGES:
        return SentimentResult(Sentiment.NEUTRAL, None, language, False)
    compound = float(_models().vader.polarity_scores(stripped)["compound"])
    return SentimentResult(_sentiment(compound), compound, language, True)


def detect_language(text: str, words: list[str] | None = None) -> str | None:
    """The language code of `text` ("en", "de", ...), None if it cannot be told."""
    words = words if words is not None else _WORD.findall(text.lower())
    if not words:
        return None
    models = _models()
    if len(words) <= _SHORT_WORDS and all(
        w in models.vader.lexicon or w in _ENGLISH_FUNCTION_WORDS for w in words
    ):
        return "en"
    detector = models.languages.create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except Exception:  # langdetect raises its own LangDetectException on featureless text
        return None
    if best.prob < _CONFIDENT:
        return None
    return str(best.lang)


def _sentiment(compound: float) -> Sentiment:
    if compound >= POSITIVE_FROM:
        return Sentiment.POSITIVE
    if compound <= NEGATIVE_UNTIL:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


class _Models:
    def __init__(self) -> None:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.vader: Any = SentimentIntensityAnalyzer()
        # Our own factory, not langdetect's module-level one: its seed and profiles
        # stay ours, whatever else in the process uses langdetect.
        self.languages: Any = DetectorFactory()
        self.languages.load_profile(PROFILES_DIRECTORY)
        self.languages.set_seed(_SEED)


_loaded: _Models | None = None
_loading = threading.Lock()


def _models() -> _Models:
    global _loaded
    with _loading:  # two workers scoring at once load the models once
        if _loaded is None:
            _loaded = _Models()
        return _loaded
