"""The course's labelled sentence set, *emotion situations* (notebooks 4.2–4.3; card in the book).

1,224 short English sentences written by the course from hand-made parts, each labelled with the
**emotion** it expresses (joy, anger, fear, sadness) and the **topic** of its situation (work,
family, travel, food, weather, sport). The two labels are crossed — every emotion occurs equally
often in every topic — so a layer that groups sentences by topic cannot look as if it grouped them
by emotion. Four **kinds** make concepts overlap on purpose:

* ``explicit``  an emotion word says it: "I was furious when the airline lost the luggage again."
* ``reaction``  no emotion word, a behaviour shows it: "The flight was cancelled …, and we slammed …"
* ``event``     the situation alone, no feeling stated: the label is the author's reading (ambiguous)
* ``mixed``     two emotions in one sentence; ``emotion`` is the first, ``second_emotion`` the other

``template`` names the sentence frame (a nuisance label: a good representation should not sort by it).

:func:`build_sentences` makes the table deterministically from the parts below;
:func:`load_sentences` reads the copy shipped in the package (``data/emotion_sentences.csv``), and a
test checks the two agree. Licence of the sentences: CC0 1.0 (written for the course).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from itertools import permutations, product
from typing import Sequence

import numpy as np

__all__ = ["EMOTIONS", "TOPICS", "KINDS", "SentenceSet", "build_sentences", "load_sentences",
           "SENTENCES_FILE"]

EMOTIONS = ("joy", "anger", "fear", "sadness")
TOPICS = ("work", "family", "travel", "food", "weather", "sport")
KINDS = ("explicit", "reaction", "event", "mixed")
SENTENCES_FILE = "emotion_sentences.csv"
COLUMNS = ("id", "text", "emotion", "topic", "kind", "second_emotion", "template")

#: How many sentences of each kind per (topic, emotion) cell; mixed: per (topic, ordered pair).
PER_CELL = {"explicit": 24, "reaction": 10, "mixed": 4}

#: (subject, its past of "to be").
SUBJECTS = (("I", "was"), ("we", "were"), ("she", "was"), ("he", "was"), ("they", "were"),
            ("my sister", "was"), ("my father", "was"), ("our neighbour", "was"))

WORDS = {
    "joy": ("happy", "thrilled", "delighted", "overjoyed", "glad"),
    "anger": ("furious", "angry", "livid", "outraged", "annoyed"),
    "fear": ("terrified", "scared", "afraid", "frightened", "anxious"),
    "sadness": ("heartbroken", "sad", "miserable", "devastated", "gloomy"),
}

REACTIONS = {
    "joy": ("laughed all the way home", "hugged everyone in the room", "could not stop smiling",
            "danced around the kitchen", "called every friend to share the news"),
    "anger": ("slammed the door so hard the windows rattled", "shouted until hoarse",
              "wrote a long complaint that same night", "clenched both fists and walked out",
              "threw the phone across the room"),
    "fear": ("could not stop shaking", "lay awake listening to every sound",
             "checked the locks three times", "froze and could not move",
             "kept glancing over a shoulder all evening"),
    "sadness": ("cried quietly for hours", "sat staring at the wall all evening",
                "did not eat for two days", "wandered the empty rooms in silence",
                "looked at the old photos again and again"),
}

#: Five situations per (topic, emotion): clauses with their own subject, in the past tense.
EVENTS = {
    ("work", "joy"): ("the promotion finally came through", "the client signed the contract",
                      "the boss praised the project in front of everyone",
                      "the team hit its target a month early", "the new job offer arrived"),
    ("work", "anger"): ("the manager took credit for the report",
                        "the meeting was cancelled after an hour of waiting",
                        "a payroll error cut the salary in half",
                        "a colleague blamed the team for his own mistake",
                        "the overtime was never paid"),
    ("work", "fear"): ("rumours of layoffs spread through the office",
                       "the server crashed the night before the launch",
                       "the director called an unscheduled meeting",
                       "the audit found a missing payment",
                       "the contract was suddenly put under review"),
    ("work", "sadness"): ("the old mentor retired", "the small office was closed for good",
                          "the project everyone loved was cancelled",
                          "a close colleague moved to another city",
                          "the last day at the company came"),
    ("family", "joy"): ("the baby took her first steps", "the whole family gathered for the reunion",
                        "grandma came home from the hospital", "the twins were born healthy",
                        "the long-lost cousin finally called"),
    ("family", "anger"): ("the relatives sold the family house without asking",
                          "the brother borrowed the car and wrecked it",
                          "the inheritance was split unfairly", "the kids broke the rules again",
                          "the uncle insulted everyone at dinner"),
    ("family", "fear"): ("the toddler wandered off in the crowd", "grandpa collapsed in the kitchen",
                         "the phone rang at three in the morning",
                         "the teenager did not come home that night",
                         "the doctor asked the family to sit down"),
    ("family", "sadness"): ("grandma passed away in the spring", "the parents announced the divorce",
                            "the old family dog died", "the last child moved out of the house",
                            "the family photos were lost in the move"),
    ("travel", "joy"): ("the plane landed on the island at sunset",
                        "the hotel upgraded the room for free", "the road trip reached the coast",
                        "the tickets to Japan were confirmed", "the train pulled into Rome on time"),
    ("travel", "anger"): ("the airline lost the luggage again",
                          "the flight was cancelled with no explanation",
                          "the taxi driver took the long way and doubled the fare",
                          "the hotel gave the booked room away",
                          "the border guards held everyone for six hours"),
    ("travel", "fear"): ("the plane dropped suddenly in the storm",
                         "the car skidded on the mountain road",
                         "the passports went missing in a foreign city",
                         "the boat began taking on water",
                         "the bus broke down on a dark empty highway"),
    ("travel", "sadness"): ("the holiday came to an end",
                            "the old travel companion could not come along",
                            "the long-planned trip had to be cancelled",
                            "the beloved seaside town had been torn down for hotels",
                            "the last evening by the lake was over"),
    ("food", "joy"): ("the cake came out of the oven perfect",
                      "the restaurant served the best meal in years",
                      "the surprise dinner was ready", "the first tomatoes of the summer were ripe",
                      "grandma's old recipe finally worked"),
    ("food", "anger"): ("the waiter brought the wrong order for the third time",
                        "the delivery arrived cold and two hours late",
                        "the restaurant charged for dishes nobody ordered",
                        "someone ate the lunch left in the office fridge",
                        "the chef refused to replace the burnt steak"),
    ("food", "fear"): ("an allergic reaction started halfway through dinner",
                       "the smoke alarm went off over a burning pan",
                       "the mushrooms turned out to be poisonous",
                       "a fishbone got stuck in the child's throat",
                       "the kitchen fire spread to the curtains"),
    ("food", "sadness"): ("the family bakery closed after forty years",
                          "the favourite cafe shut down", "the holiday dinner was eaten alone",
                          "the recipe was lost with grandma", "the birthday cake went uneaten"),
    ("weather", "joy"): ("the sun came out for the wedding", "the first snow of winter fell",
                         "the rain finally ended the drought", "the storm missed the town",
                         "a rainbow appeared over the valley"),
    ("weather", "anger"): ("the storm knocked out the power for the fourth time",
                           "the forecast promised sunshine and it poured all day",
                           "the city never cleared the snow from the street",
                           "the insurer refused to pay for the flood damage",
                           "the hail dented the freshly painted car"),
    ("weather", "fear"): ("the tornado siren started wailing", "the river rose over the bridge",
                          "lightning struck the tree beside the house",
                          "the hurricane turned toward the coast",
                          "the wildfire smoke filled the valley"),
    ("weather", "sadness"): ("the rain ruined the long-awaited picnic",
                             "the grey winter dragged on for months",
                             "the flood washed away the old garden",
                             "the storm destroyed the village church",
                             "the summer ended far too soon"),
    ("sport", "joy"): ("the team won the championship", "the marathon finish line came into view",
                       "the underdogs scored in the final minute",
                       "the first goal of the season went in", "the gold medal was announced"),
    ("sport", "anger"): ("the referee ignored a clear foul",
                         "the coach benched the best player for no reason",
                         "the match turned out to be fixed",
                         "rival fans threw bottles onto the field",
                         "the trophy was taken away on a technicality"),
    ("sport", "fear"): ("a player collapsed on the pitch", "the climbing rope began to fray",
                        "the ski lift stopped high above the valley",
                        "the horse bolted on the trail",
                        "a knee gave way on the steep descent"),
    ("sport", "sadness"): ("the team was relegated after a hundred years",
                           "the star player announced his retirement",
                           "the season ended in last place", "the old stadium was demolished",
                           "the injury ended a promising career"),
}

#: Sentence frames; {S} subject, {B} its "was/were", {W} emotion word, {E} situation, {R} reaction.
EXPLICIT_FRAMES = {
    "was-when": "{S} {B} {W} when {E}.",
    "when-felt": "When {E}, {s} felt {W}.",
    "and-rest-of-day": "{E}, and {s} {B} {W} for the rest of the day.",
    "felt-after": "{S} felt {W} after {E}.",
}
REACTION_FRAMES = {"and-reaction": "{E}, and {s} {R}.", "after-reaction": "After {E}, {s} {R}."}
EVENT_FRAME = ("event-only", "{E}.")
MIXED_FRAMES = {
    "was-that-but": "{S} {B} {W} that {E}, but {W2} that {E2}.",
    "felt-when-and": "{S} felt {W} when {E} and {W2} when {E2}.",
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(frame: str, subject: tuple[str, str], **parts: str) -> str:
    s, be = subject
    lower = s if s == "I" else s.lower()
    text = frame.format(S=_cap(s), s=lower, B=be, **{k: v for k, v in parts.items()})
    return _cap(text)


def _draw(rng: np.random.Generator, options: Sequence, k: int) -> list:
    """``k`` distinct picks from ``options`` (all of them, shuffled, then again, if k exceeds it)."""
    picks: list = []
    while len(picks) < k:
        order = rng.permutation(len(options))
        picks.extend(options[i] for i in order)
    return picks[:k]


@dataclass(frozen=True)
class SentenceSet:
    """The table as arrays, one row per sentence (column names as in the CSV)."""

    text: np.ndarray
    emotion: np.ndarray
    topic: np.ndarray
    kind: np.ndarray
    second_emotion: np.ndarray   #: "" unless kind == "mixed"
    template: np.ndarray

    def __len__(self) -> int:
        return len(self.text)

    def labels(self, column: str) -> np.ndarray:
        """One label column by name (``emotion``, ``topic``, ``kind``, ``second_emotion``, ``template``)."""
        if column not in COLUMNS[2:]:
            raise ValueError(f"column must be one of {', '.join(COLUMNS[2:])}; got {column!r}")
        return getattr(self, column)

    def rows(self) -> list[dict[str, str]]:
        return [{"id": str(i), "text": t, "emotion": e, "topic": p, "kind": k, "second_emotion": s,
                 "template": m}
                for i, (t, e, p, k, s, m) in enumerate(zip(self.text, self.emotion, self.topic,
                                                          self.kind, self.second_emotion,
                                                          self.template))]


def build_sentences(seed: int = 2026) -> SentenceSet:
    """Make the sentence set from the parts above (deterministic for a given ``seed``)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str, str, str, str]] = []

    def add(text: str, emotion: str, topic: str, kind: str, second: str, template: str) -> None:
        rows.append((text, emotion, topic, kind, second, template))

    for topic, emotion in product(TOPICS, EMOTIONS):
        events = EVENTS[(topic, emotion)]
        combos = list(product(EXPLICIT_FRAMES.items(), SUBJECTS, WORDS[emotion], events))
        for (name, frame), subj, word, event in _draw(rng, combos, PER_CELL["explicit"]):
            add(_fill(frame, subj, W=word, E=event), emotion, topic, "explicit", "", name)
        combos = list(product(REACTION_FRAMES.items(), SUBJECTS, REACTIONS[emotion], events))
        for (name, frame), subj, reaction, event in _draw(rng, combos, PER_CELL["reaction"]):
            add(_fill(frame, subj, R=reaction, E=event), emotion, topic, "reaction", "", name)
        for event in events:
            add(_fill(EVENT_FRAME[1], SUBJECTS[0], E=event), emotion, topic, "event", "", EVENT_FRAME[0])
    for topic, (first, second) in product(TOPICS, permutations(EMOTIONS, 2)):
        combos = list(product(MIXED_FRAMES.items(), SUBJECTS, WORDS[first], WORDS[second],
                              EVENTS[(topic, first)], EVENTS[(topic, second)]))
        for (name, frame), subj, w1, w2, e1, e2 in _draw(rng, combos, PER_CELL["mixed"]):
            add(_fill(frame, subj, W=w1, W2=w2, E=e1, E2=e2), first, topic, "mixed", second, name)
    columns = list(zip(*rows))
    texts = list(columns[0])
    if len(set(texts)) != len(texts):
        raise RuntimeError("the sentence parts produced a duplicate sentence")
    return SentenceSet(*(np.array(c) for c in columns))


def load_sentences() -> SentenceSet:
    """The sentence set shipped with the package (``course_lib/mapper/data/emotion_sentences.csv``)."""
    path = resources.files("course_lib.mapper").joinpath("data", SENTENCES_FILE)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise RuntimeError(f"{SENTENCES_FILE} must have the columns {COLUMNS}")
    return SentenceSet(*(np.array([r[c] for r in rows]) for c in COLUMNS[1:]))


def write_sentences(path, sentences: SentenceSet | None = None) -> None:
    """Write the table as CSV (how the shipped file is made: ``python -m course_lib.mapper.sentences``)."""
    sentences = build_sentences() if sentences is None else sentences
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sentences.rows())


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped file
    from pathlib import Path

    write_sentences(Path(__file__).with_name("data") / SENTENCES_FILE)
