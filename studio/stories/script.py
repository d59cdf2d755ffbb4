"""The words of a story: the script (written by the language model or given), its scenes,
search keywords for each scene's picture, and the publishing details (titles, description,
caption, hashtags). Without a language model the details are derived from the script and
marked as derived."""

import re
from collections import Counter

from engines.base import EngineError
from media_tools.captions import join_words

SCRIPT_SYSTEM = (
    "You write narration scripts for short vertical and horizontal videos. Answer with JSON: "
    '{"title": "...", "scenes": [{"text": "...", "visual": "..."}]}. "text" is what the '
    "narrator says in that scene: one to three short spoken sentences, no stage directions, "
    'no emojis. "visual" describes one picture for the scene in a few concrete words '
    "(subject, setting, light) that also work as a stock footage search."
)

DETAILS_SYSTEM = (
    "You write publishing details for a short video from its script. Answer with JSON: "
    '{"youtube_title": "... (at most 90 characters)", "youtube_description": "... (2-4 '
    'sentences)", "instagram_caption": "... (1-2 sentences)", "hashtags": ["#...", ...]} with '
    "five to eight hashtags."
)

STOPWORDS = frozenset({
    "a", "i", "an", "as", "at", "be", "by", "do", "he", "if", "in", "is", "it", "my", "no",
    "of", "on", "or", "so", "to", "up", "us", "we", "all", "and", "any", "are", "but", "can",
    "did", "few", "for", "get", "got", "had", "has", "her", "him", "his", "how", "its", "let",
    "may", "new", "not", "now", "off", "one", "our", "out", "own", "she", "the", "too", "was",
    "way", "who", "why", "yet", "you", "also", "been", "both", "does", "each", "even", "from",
    "have", "here", "into", "just", "like", "make", "many", "more", "most", "much", "must",
    "once", "only", "over", "same", "some", "such", "take", "than", "that", "them", "then",
    "they", "this", "upon", "very", "well", "were", "what", "when", "will", "with", "your",
    "about", "after", "being", "could", "every", "other", "since", "still", "their", "there",
    "these", "those", "under", "until", "where", "which", "while", "would", "before", "should",
    "because", "through",
})


def _sentences(text: str) -> list[str]:
    units = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        # Chinese and Japanese end sentences with full-width marks and no space after them.
        units += [s.strip() for s in re.split(r"(?<=[.!?…])\s+|(?<=[。！？])\s*", paragraph)
                  if s.strip()]
    return units


def split_scenes(script: str, n_scenes: int | None, *, max_scenes: int = 20) -> list[str]:
    """The script's scenes: paragraphs when no count is asked for; otherwise sentences merged
    (shortest neighbours first) or paragraphs split until there are `n_scenes` (fewer when
    the script has fewer sentences)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", script) if p.strip()]
    if n_scenes is None:
        units = paragraphs if len(paragraphs) > 1 else _sentences(script)
        n_scenes = min(max_scenes, len(units)) or 1
    else:
        units = paragraphs if len(paragraphs) >= n_scenes else _sentences(script)
    units = units or [script.strip()]
    while len(units) > n_scenes:
        i = min(range(len(units) - 1), key=lambda k: len(units[k]) + len(units[k + 1]))
        units[i:i + 2] = [join_words(units[i:i + 2])]
    return units


def keywords(text: str, *, count: int = 4) -> list[str]:
    """The scene's most telling words (long, not stop words), for stock searches."""
    words = [w.lower() for w in re.findall(r"[^\W\d_][\w'-]*", text)]
    scored = Counter(w for w in words if w not in STOPWORDS and len(w) > 2)
    ranked = sorted(scored, key=lambda w: (-scored[w], -len(w), words.index(w)))
    return ranked[:count]


def llm_script(client, *, topic: str, n_scenes: int, language: str, title: str) -> dict:
    """Script and scenes from the language model: {"title", "scenes": [{"text", "visual"}]}."""
    ask = (f"Topic: {topic}\nLanguage: {language}\nScenes: exactly {n_scenes}\n"
           + (f"Title: {title}\n" if title else ""))
    answer = client.chat_json([{"role": "system", "content": SCRIPT_SYSTEM},
                               {"role": "user", "content": ask}], temperature=0.7)
    scenes = []
    for item in (answer.get("scenes") if isinstance(answer, dict) else None) or []:
        if isinstance(item, dict) and str(item.get("text", "")).strip():
            scenes.append({"text": " ".join(str(item["text"]).split())[:5000],
                           "visual": " ".join(str(item.get("visual", "")).split())[:2000]})
    if not scenes:
        raise EngineError("The language model returned no scenes.", code="engine_bad_output")
    return {"title": str(answer.get("title") or "").strip()[:200], "scenes": scenes[:n_scenes]}


def derived_details(*, title: str, script: str) -> dict:
    """Publishing details taken from the script itself (no language model)."""
    sentences = _sentences(script)
    first = sentences[0] if sentences else script.strip()
    head = title or (first[:87] + "…" if len(first) > 90 else first)
    tags = ["#" + re.sub(r"[^\w]", "", w) for w in keywords(script, count=6)]
    return {"youtube_title": head[:90],
            "youtube_description": " ".join(sentences[:3])[:1000],
            "instagram_caption": first[:300],
            "hashtags": [t for t in tags if len(t) > 1],
            "derived": True}


def llm_details(client, *, title: str, script: str) -> dict:
    answer = client.chat_json([{"role": "system", "content": DETAILS_SYSTEM},
                               {"role": "user", "content": f"Title: {title}\n\n{script}"}])
    if not isinstance(answer, dict):
        raise EngineError("The language model's details were not an object.",
                          code="engine_bad_output")
    hashtags = answer.get("hashtags") or []
    if isinstance(hashtags, str):
        hashtags = hashtags.split()
    return {"youtube_title": str(answer.get("youtube_title") or title)[:100],
            "youtube_description": str(answer.get("youtube_description") or "")[:5000],
            "instagram_caption": str(answer.get("instagram_caption") or "")[:2200],
            "hashtags": [("#" + str(h).lstrip("#"))[:60] for h in hashtags][:15],
            "derived": False}
