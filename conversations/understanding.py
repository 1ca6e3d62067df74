"""Understanding what a resident wrote: readable rules, not machine learning.

Every decision here is an ordered table of regular expressions or words, each with a comment
saying *why* it is there, so a complaints officer can read the rules, a reviewer can trace them
to the Complaint Handling Code, and a wrong answer is fixed by editing one line of a table.

The functions are pure: text in, answer out; nothing is stored and nothing is sent. The engine
decides what to do with the answers (offer a complaint, hand over to a person, warn about an
emergency).

How text is read (:func:`_normalise`), so the tables stay short:

* case, curly apostrophes and missing apostrophes do not matter (``Don’t``, ``dont`` and
  ``do not`` are all read as ``do not``; ``I’m``/``im`` as ``i am``);
* punctuation is dropped (``no-one`` is ``no one``) and text-speak expanded (``u`` → ``you``,
  ``pls`` → ``please``);
* common misspellings are corrected from a table (``kitchin``, ``recieved``, ``complant``,
  ``bolier``), and a few long key words also tolerate any one slip of the finger (one letter
  wrong, missing, extra, or two letters swapped).

UK English throughout: ``mould``, ``ring me``, ``flat``, ``fed up``, ``out of order``.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Final

from core.references import is_valid as _is_valid_reference

__all__ = [
    "Hazard",
    "Intent",
    "SinceWhen",
    "classify",
    "detect_hazards",
    "extract_location",
    "extract_outcome",
    "is_abusive",
    "is_auto_reply",
    "is_life_threatening",
    "is_vulnerable_household",
    "looks_like_outcome",
    "parse_since",
    "shows_distress",
    "split_points",
]


class Intent(StrEnum):
    """What a message is mainly about, as a complaints officer would first read it."""

    DISSATISFACTION = "dissatisfaction"
    """CHC-1.2/1.3: an expression of dissatisfaction; offer a complaint straight away."""
    PROBLEM_REPORT = "problem_report"
    """CHC-1.4: only reports a problem; offer to report it as a repair or make a complaint."""
    COMPLAINT = "complaint"
    """Says outright they want to complain."""
    STATUS = "status"
    """Asks how a complaint or request is going, or gives only a reference."""
    ESCALATE = "escalate"
    """CHC-6.10: wants to take a complaint to stage 2."""
    PERSON = "person"
    """Wants to speak to a person."""
    WITHDRAW = "withdraw"
    """Wants to withdraw a complaint."""
    CANCEL = "cancel"
    """Wants to abandon what the bot is asking (start again, stop)."""
    HELP = "help"
    """Greets the bot or asks what it can do."""
    YES = "yes"
    """A plain yes."""
    NO = "no"
    """A plain no."""
    UNKNOWN = "unknown"
    """None of the above."""


class Hazard(StrEnum):
    """Emergency hazards under Awaab's Law: made safe within 24 hours, reported to staff at once."""

    GAS = "gas"
    CARBON_MONOXIDE = "carbon_monoxide"
    ELECTRICAL = "electrical"
    FLOODING = "flooding"
    STRUCTURAL = "structural"
    NO_HEATING_OR_WATER = "no_heating_or_water"
    DAMP_AND_MOULD = "damp_and_mould"
    FIRE = "fire"


@dataclass(frozen=True)
class SinceWhen:
    """When the resident became aware of the problem (CHC-2.3), as they said it.

    Attributes:
        text: the resident's own words, stripped; for a long message, the phrase that gave the
            time.
        aware_on: the date those words point to, never after the day they were written; None
            when the resident does not know.
        unknown: True when the resident said they do not know or cannot remember.
    """

    text: str
    aware_on: date | None
    unknown: bool


# ================================================================== reading the text

_APOSTROPHES: Final = str.maketrans(dict.fromkeys("’‘`´ʼ′", "'"))

# Contractions are expanded once, so every rule can say "do not" and "i am" and be done.
# "ill" is left alone: "I'll" and "making us ill" cannot be told apart without the apostrophe.
_CONTRACTIONS: Final[dict[str, str]] = {
    "aint": "is not",
    "arent": "are not",
    "cannot": "can not",
    "cant": "can not",
    "couldnt": "could not",
    "couldve": "could have",
    "didnt": "did not",
    "doesnt": "does not",
    "dont": "do not",
    "hadnt": "had not",
    "hasnt": "has not",
    "havent": "have not",
    "hes": "he is",
    "hows": "how is",
    "id": "i would",
    "im": "i am",
    "isnt": "is not",
    "itll": "it will",
    "its": "it is",
    "ive": "i have",
    "nobodys": "nobody has",
    "noone": "no one",
    "shes": "she is",
    "shouldnt": "should not",
    "shouldve": "should have",
    "thats": "that is",
    "theres": "there is",
    "theyll": "they will",
    "theyre": "they are",
    "theyve": "they have",
    "wasnt": "was not",
    "werent": "were not",
    "weve": "we have",
    "whats": "what is",
    "wheres": "where is",
    "whos": "who is",
    "wont": "will not",
    "wouldnt": "would not",
    "wouldve": "would have",
    "youll": "you will",
    "youre": "you are",
    "youve": "you have",
}

# Text-speak, as residents type on a phone.
_TEXT_SPEAK: Final[dict[str, str]] = {
    "abt": "about",
    "any1": "anyone",
    "b4": "before",
    "bc": "because",
    "bk": "back",
    "cld": "could",
    "cos": "because",
    "coz": "because",
    "cuz": "because",
    "every1": "everyone",
    "gonna": "going to",
    "gotta": "got to",
    "hv": "have",
    "no1": "no one",
    "pls": "please",
    "plse": "please",
    "plz": "please",
    "ppl": "people",
    "r": "are",
    "some1": "someone",
    "sum1": "someone",
    "thru": "through",
    "u": "you",
    "ur": "your",
    "wanna": "want to",
    "wat": "what",
    "wen": "when",
    "wld": "would",
    "wot": "what",
}

# Misspellings seen in real messages; the long key words also get a one-slip tolerance below.
_TYPOS: Final[dict[str, str]] = {
    # complaint / complain: "compliant" is a real word, but never what a resident means here.
    "comlaint": "complaint",
    "compalint": "complaint",
    "complaimt": "complaint",
    "complait": "complaint",
    "complant": "complaint",
    "compliant": "complaint",
    "compliants": "complaints",
    "complint": "complaint",
    "complian": "complain",
    "compain": "complain",
    "complane": "complain",
    "complainin": "complaining",
    # the home and its fittings
    "bathrom": "bathroom",
    "bedrom": "bedroom",
    "bioler": "boiler",
    "boilar": "boiler",
    "boiler's": "boiler",
    "boilier": "boiler",
    "boiller": "boiler",
    "boilor": "boiler",
    "boilr": "boiler",
    "bolier": "boiler",
    "boliler": "boiler",
    "boyler": "boiler",
    "ceilling": "ceiling",
    "celing": "ceiling",
    "cieling": "ceiling",
    "electic": "electric",
    "eletric": "electric",
    "elecric": "electric",
    "heatin": "heating",
    "heatting": "heating",
    "kichen": "kitchen",
    "kitchin": "kitchen",
    "kitchn": "kitchen",
    "kithcen": "kitchen",
    "loo": "toilet",
    "radiater": "radiator",
    "radiaters": "radiators",
    "shwer": "shower",
    "toilit": "toilet",
    "toliet": "toilet",
    "warter": "water",
    "watter": "water",
    "windo": "window",
    "wndow": "window",
    "wter": "water",
    # faults
    "borken": "broken",
    "brocken": "broken",
    "broke": "broken",
    "brokn": "broken",
    "leakin": "leaking",
    "leakng": "leaking",
    "leek": "leak",
    "leeking": "leaking",
    "mold": "mould",
    "moldy": "mouldy",
    "moudl": "mould",
    "workin": "working",
    # people and the process
    "apointment": "appointment",
    "appoinment": "appointment",
    "appointmnet": "appointment",
    "appt": "appointment",
    "contracter": "contractor",
    "contracters": "contractors",
    "enginer": "engineer",
    "engneer": "engineer",
    "esculate": "escalate",
    "escelate": "escalate",
    "escallate": "escalate",
    "escalte": "escalate",
    "nobdy": "nobody",
    "plumer": "plumber",
    "recieve": "receive",
    "recieved": "received",
    "recived": "received",
    "repairman": "repair man",
    "repairmen": "repair men",
    "repar": "repair",
    "repiar": "repair",
    "reapir": "repair",
    "somone": "someone",
    "sombody": "somebody",
    "upd8": "update",
    "updat": "update",
    "witdraw": "withdraw",
    "withdrawl": "withdraw",
    # how residents feel about it
    "discusting": "disgusting",
    "disgustin": "disgusting",
    "rediculous": "ridiculous",
    "rediculus": "ridiculous",
    "ridiculas": "ridiculous",
    "ridiculus": "ridiculous",
    "unacceptible": "unacceptable",
    "unexceptable": "unacceptable",
}

# Long words the rules rely on, which also tolerate one slip (see _one_slip_apart). Only words
# of seven letters or more, with no common English word one slip away: "heating" is not here
# ("heading", "beating"), nor "leaking" ("leaning", "leaving"), nor "flooding" ("flooring").
_SLIP_TOLERANT: Final = (
    "appointment",
    "bathroom",
    "bedroom",
    "ceiling",
    "complain",
    "complaining",
    "complaint",
    "complaints",
    "condensation",
    "contractor",
    "contractors",
    "disgraceful",
    "disgusting",
    "electrician",
    "engineer",
    "escalate",
    "kitchen",
    "plumber",
    "radiator",
    "radiators",
    "received",
    "ridiculous",
    "unacceptable",
    "withdraw",
)
_SLIP_MIN_LENGTH: Final = 7


def _one_slip_apart(typed: str, word: str) -> bool:
    """Return whether ``typed`` is ``word`` with one letter wrong, missing, extra or swapped."""
    if typed == word or abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        diffs = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == word[diffs[1]]
            and typed[diffs[1]] == word[diffs[0]]
        )
    shorter, longer = sorted((typed, word), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


@lru_cache(maxsize=4096)
def _correct(token: str) -> str:
    """Return the reading of one lower-case token: contraction, text-speak, typo or as typed."""
    for table in (_CONTRACTIONS, _TEXT_SPEAK, _TYPOS):
        if token in table:
            return table[token]
    if len(token) >= _SLIP_MIN_LENGTH and token.isalpha() and token not in _SLIP_TOLERANT:
        for word in _SLIP_TOLERANT:
            if _one_slip_apart(token, word):
                return word
    return token


def _plain(text: str) -> str:
    """Lower-case ``text`` with straight apostrophes and compatibility characters folded."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()


@lru_cache(maxsize=1024)
def _normalise(text: str) -> str:
    """Return ``text`` as the rules read it: lower case, plain words, single spaces.

    Apostrophes are removed before words are split, so ``don't`` and ``dont`` read the same;
    other punctuation becomes a space; ``/`` is kept for ``/start``.
    """
    lowered = _plain(text).replace("'", "")
    words = re.sub(r"[^a-z0-9/£]+", " ", lowered).split()
    return " ".join(_correct(word) for word in words)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def _matches(table: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(pattern.search(text) for pattern in table)


# ================================================================== intent tables
# Each table is read against the normalised text. The order in which the tables are tried is
# in _INTENT_RULES, near classify().

_WITHDRAW: Final = _compile(
    # In a complaints service "withdraw" means the complaint, whatever else follows.
    r"\bwithdraw(n|ing|al)?\b",
    # "cancel my complaint" must not be read as CANCEL (abandon this conversation).
    r"\b(cancel|drop|close|scrap|stop|end|retract|pull) (my|the|this|that|our)( \w+){0,2}"
    r" complaint",
    r"\b(cancel|drop|close|scrap|retract) complaint\b",
    r"\btake (back|away) (my|the|this) complaint\b|\btake (my|the|this) complaint back\b",
    # Not wanting to complain *any more* is a withdrawal; "I don't want to make a complaint,
    # just fix it" is not (it is a service request, CHC-1.4) and is left to later rules.
    r"\bno longer (want|wish|need) to (complain|make a complaint|pursue|go ahead|carry on)",
    r"\b(do not|not) (want|wish|need) to (complain|make (a|the|my) complaint)( \w+){0,4}"
    r" (any ?more|after all)\b",
    r"\b(do not|not) (want|wish) to (go ahead|continue|carry on|proceed|pursue)( with)?"
    r" (the|my|this) complaint\b",
)

# A response to a repair is not a complaint response: dissatisfaction with it is a new
# complaint (CHC-1.5), not an escalation.
_NOT_ABOUT_A_REPAIR: Final = (
    r"(?! to (my|the|our|a) (\w+ )?(repair|repairs|report|request|service request|leak|problem"
    r"|job|boiler|heating))"
)
_DECISION_WORDS: Final = (
    r"(response|reply|answer|decision|outcome|findings|result|resolution|letter|offer"
    r"|conclusion)"
)
_ESCALATE: Final = _compile(
    r"\bescalat(e|ed|ion)\b",  # CHC-6.10; not "escalating", which residents say of a problem
    r"\bstage ?(2|two|ii)\b",
    r"\b(second|next|higher|final) stage\b",
    r"\b(next|higher) level\b",
    r"\bappeal(ed)?\b",
    r"\btake (it|this|my complaint|the complaint|things|this matter|the matter) further\b",
    rf"\b(not|never) (happy|satisfied|content|pleased) with (the|your|this|that|their|his|her"
    rf"|my) (\w+ ){{0,3}}{_DECISION_WORDS}\b{_NOT_ABOUT_A_REPAIR}",
    rf"\b(unhappy|dissatisfied|disappointed) with (the|your|this|that|their|my)"
    rf" (\w+ ){{0,3}}{_DECISION_WORDS}\b{_NOT_ABOUT_A_REPAIR}",
    rf"\b(disagree|do not agree|not agree) with (the|your|this|that|their) (\w+ ){{0,3}}"
    rf"{_DECISION_WORDS}\b",
    rf"\b(do not|will not|can not|not|refuse to) accept (the|your|this|that|their)"
    rf" (\w+ ){{0,3}}{_DECISION_WORDS}\b",
    rf"\b(review|reconsider) (of )?(the|your|this|that) (\w+ ){{0,2}}{_DECISION_WORDS}\b",
    r"\b(the|your) (response|reply|answer|decision) (did not|does not|failed to)"
    r" (answer|address|deal with|cover|resolve)\b",
)

_PERSON: Final = _compile(
    r"\b(speak|talk|chat|get through|put me through|transfer me|be put through) (to|with)"
    r" (a |an |the |some |your |one of your )?(real |actual |live |proper )?(person|human"
    r"|human being|someone|somebody|anyone|anybody|manager|supervisor|agent|advisor|adviser"
    r"|officer|housing officer|member of staff|staff|operator|team leader|people)\b",
    r"\b(real|actual|live|proper) (person|human|people|agent|human being)\b",
    r"^(an? )?(human|person|agent|operator|advisor|adviser|manager)( please)?$",
    r"\b(are you|is this|am i (talking|speaking|chatting) to) (a |an )?(bot|robot|computer"
    r"|machine|automated|real person|human)\b",
    # Only a *request* to be called: "you promised to call me" and "nobody called me back" are
    # dissatisfaction (CHC-1.2), not a request, and must not match here.
    r"\b(can|could|would|will) (you|someone|somebody|anyone|one of you|a person|an advisor"
    r"|a manager) (please )?(call|ring|phone) me\b",
    r"\bplease (call|ring|phone) me\b",
    r"^(call|ring|phone) me\b",
    r"\b(want|need|like) (you |someone |somebody |a person |a manager |an officer )?to"
    r" (call|ring|phone) me\b",
    r"\b(give me|request|arrange|want|need|like|book) (a )?(call ?back|callback|phone call"
    r"|call|ring|bell)\b",
)

_CANCEL: Final = _compile(
    # Anchored: the whole message must be the request, or "they cancelled my appointment" and
    # "the leak will not stop" would abandon the conversation.
    r"^((oh|ok|okay|actually|no|sorry|please|just|um|erm|hmm|right|nah|wait) )*"
    r"((i want to|i would like to|want to|can we|can i|can you|let us|lets|please) )?"
    r"(cancel( (that|this|it|everything|all of it|all|the whole thing))?|start (again|over"
    r"|afresh|from scratch)|restart|reset|forget (it|that|this|about it|everything)"
    r"|never ?mind|stop( (it|this|that|now))?|quit|exit|abort|go back|back to (the )?(start"
    r"|beginning|menu))( (please|thanks|thank you|then))*$",
)

# Greetings and requests for help count only when they are the whole message: "hi, my tap is
# leaking" is a problem report that happens to start politely.
_HELP_WORDS: Final = _words(
    "hi hiya hello helo hallo hey heya help /start /help /menu start menu options morning"
    " afternoon evening"
)
_HELP_FILLER: Final = _words(
    "there please me good i need some can you bot team the main show all everyone a"
)
_HELP: Final = _compile(
    r"^((hi|hello|hey|hiya) )?(is (anyone|anybody|someone|somebody) there|what can (you|i) do"
    r"( here| for me)?|what do you do|how does"
    r" (this|it) work|how do (i|you) use (this|it)|what is this|who are you|what are (my|the)"
    r" options|what can you help (me )?with|what can i ask|how can you help( me)?)$",
)

_YES: Final = _compile(
    r"^((oh|um|erm|well|yes) )*(yes|yeah|yea|yep|yup|ya|yah|yh|ye|y|aye|ok|okay|k|kk|sure"
    r"|correct|right|exactly|absolutely|definitely|indeed|certainly|perfect|confirm|confirmed"
    r"|agreed|of course|go ahead|please do( that| it)?|do it|do that|sounds (good|right|fine)"
    r"|looks (good|right|fine|correct)|spot on|all (good|correct|right)|(that is|it is|that)"
    r" (right|correct|it|fine|ok|okay|spot on|accurate|perfect|all correct|all right|true))"
    r"( (yes|please|thanks|thank you|cheers|that is (right|correct|it)|it is|correct|right"
    r"|go ahead|that is it|all good|exactly|mate|love))*$",
)
_NO: Final = _compile(
    r"^((oh|um|erm|well|sorry) )*(no|nope|nah|na|naw|n|nay|negative|not really|not quite"
    r"|not exactly|not at all|not yet|not right|not correct|wrong|incorrect|no way"
    r"|definitely not|absolutely not|(that is|it is) (not (right|correct|quite right|it)|wrong"
    r"|incorrect))( (thanks|thank you|sorry|please|that is (not (right|correct|quite right"
    r"|it)|wrong|incorrect)|it is not|not quite|not really|not right|wrong|incorrect))*$",
)

_STATUS: Final = _compile(
    r"^(status|update|updates|progress|news|latest)( update)?( please| thanks)?$",
    r"\b(the|my|a|check|what is) status\b",
    r"\b(any|an|get an|some|for an|give me an|quick) (update|updates|news|progress|word"
    r"|feedback)\b",
    r"\bany (joy|luck)\b",  # "any joy with my complaint?"
    r"\bwhere (is|are) (my|the|our) (\w+ ){0,2}(complaint|complaints|case|request|report"
    r"|reference|claim)\b",
    r"\bwhat is (happening|going on) (with|about|on)\b",
    r"\bwhat is (the )?(latest|progress|news|update|situation|position)\b",
    r"\bupdate (me|us)\b",
    r"\b(update|updates|progress|news|status) (on|of|for|about|with|regarding|re) (my|the|our"
    r"|this|that|case|complaint|reference|ref|c|r)\b",
    r"\bwhen (will|can|should|do|shall) (i|we) (hear|get|receive|expect|have|be told)\b",
    r"\bwhen (will|is|are) (someone|somebody|anyone|you|they|the (engineer|plumber|contractor"
    r"|electrician|workman|workmen|repair|repairs)) (\w+ ){0,2}(come|coming|be here|be round"
    r"|turn up|get back|reply|respond|fix|be fixed|be done|start|finish|contact)\b",
    r"\bhow is (my|the|our) (complaint|case|request|repair|claim)( \w+)? (going|progressing"
    r"|getting on|coming along)\b",
    r"\bwhat stage (is|are)\b",
    r"\bwhat (has )?happened (to|with) (my|the|our) (complaint|case|request|report|repair)\b",
    r"\b(has|have) (my|the|our) (complaint|case|request|report|repair) been (looked at|seen"
    r"|dealt with|picked up|assigned|received|read)\b",
    r"\bhow long (will|is|does) (it|this|the \w+) (take|going to take)\b",
    r"\b(check|checking|chase|chasing|follow up|following up|check on|check up on|chasing up)"
    r" (on |up on |up )?(my|the|our|this) (complaint|case|request|report|repair|reference"
    r"|ref)\b",
    r"\b(have you|has anyone|did you) (got|get|received|receive|looked at|seen|read) my"
    r" (complaint|email|message|report|letter)\b",
)

# A resident may write "complaint" and mean the opposite: "I'm not complaining, but…",
# "I don't want to make a complaint, just get it fixed" (a service request, CHC-1.4).
_NEGATED_COMPLAINT: Final = re.compile(r"\b(not|never|no|without) (\w+ ){0,4}?complain\w*")
_COMPLAINT: Final = _compile(
    r"\bcomplain(t|ts|ing|ed|s)?\b",
    r"\b(formal )?grievance\b",
)

# CHC-1.2: dissatisfaction with the landlord, its staff or contractors, said in so many words.
# These outrank a request for an update: the resident must be offered a complaint (CHC-1.3).
_SERVICE_TARGETS: Final = (
    r"(service|services|job|work|workmanship|repair|repairs|response|communication|contractor"
    r"|contractors|staff|landlord|council|housing association|management|attitude|treatment"
    r"|standard|handling|the way|way you|way they)"
)
_BAD: Final = (
    r"(disgusting|terrible|awful|horrible|horrendous|dreadful|poor|bad|rubbish|crap|shit"
    r"|shoddy|lousy|atrocious|abysmal|woeful|sloppy|slow|lazy|useless|worst)"
)
_STAFF_SUBJECTS: Final = (
    r"(you|you lot|you people|they|he|she|staff|your staff|the staff|officer|housing officer"
    r"|contractor|contractors|engineer|plumber|electrician|workman|workmen|manager|caretaker"
    r"|repair man|repair men|man|woman|lady|guy|team|receptionist|call centre)"
)
_GRIEVANCE: Final = _compile(
    # Judgements that are always about how the resident has been treated.
    r"\b(useless|incompetent|unacceptable|disgraceful|disgrace|appalling|appalled|shocking"
    r"|ridiculous|pathetic|shambles|shambolic|diabolical|outrageous|scandalous|laughable"
    r"|unprofessional|negligent|negligence|inexcusable|a joke|a farce|not good enough"
    r"|not acceptable|fed up|sick of|sick and tired|had enough|fuming|furious|livid|angry"
    r"|frustrated|frustrating|unhappy|not happy|disappointed|disappointing|let down|lied"
    r"|lying|ignored|ignoring|fobbed off|fob me off|no one cares|nobody cares|do not care"
    r"|waste of time|wasted my time|how many times|pillar to post|runaround|run around"
    r"|cowboys|rude|disrespectful|patronising|patronizing|condescending|arrogant"
    r"|discriminat\w*|racist|bullied|harassed|shouted at|swore at|hung up on|laughed at)\b",
    r"\btreated (me|us) (like|badly|with)\b",
    r"\b(do not|never|did not) listen\b",
    r"\b(lack of|poor|no|zero|bad) (communication|action|response|support|care)\b",
    r"\bhow (much )?longer (do|will|must|have|am|are) (i|we)\b",
    # "Disgusting" may describe the mould; "disgusting service" describes the landlord.
    rf"\b{_BAD} (\w+ ){{0,2}}{_SERVICE_TARGETS}\b",
    rf"\b{_SERVICE_TARGETS} (is|are|was|were|has been|have been)( \w+)? {_BAD}\b",
    # "Out of order" is a fault in a lift but a judgement of a person.
    rf"\b{_STAFF_SUBJECTS} (is|are|was|were)( totally| well| bang| completely| way)? out of"
    r" order\b",
    # Going outside the landlord: the Ombudsman, an MP or councillor, a solicitor. Read as
    # dissatisfaction so a complaint is offered first (CHC-1.3); the engine, which knows about
    # an open case, may offer escalation instead.
    r"\b(ombudsman|solicitor|legal action|sue you|take you to court|disrepair claim"
    r"|(my|the|local) (mp|councillor))\b",
)

# CHC-1.5: lack of action, or a poor response to a service request, is a complaint even while
# the repair is still open.
_PEOPLE_ACTIONS: Final = (
    r"(come|came|comes|been|turned up|turns up|showed up|shown up|show up|turn up|arrived"
    r"|called|calls|call|rung|rang|rings|phoned|contacted|replied|replies|responded|responds"
    r"|answered|answers|answer|reply|respond|ring|showed|shows|show|got back|gets back"
    r"|get back|gotten back|returned|fixed|fix|done|sorted"
    r"|bothered|visited|looked|attended|checked|listened|helped|come out|been out|been round)"
)
_SERVICE_FAILURE: Final = _compile(
    rf"\b(nobody|no one|none of you|no engineer|no contractor|no plumber|no workman|no one from"
    rf" \w+) ((has|have|had|ever|even|yet|still|actually|bothered to|ever|once) )*"
    rf"{_PEOPLE_ACTIONS}\b",
    r"\bnever (came|come|comes|turned up|turns up|turn up|showed|shows|shown|show up|arrived"
    r"|called|calls|call|rang|rings|ring|phoned|replied|replies|reply|responded|responds"
    r"|respond|got back|gets back|get back|came back|came out|fixed|fix|finished|completed"
    r"|sorted|bothered|did|does|heard|hear|answer|answers|answered|listen|listens|listened"
    r"|kept|keep|followed up|follow up|returned)\b",
    r"\b(did not|has not|have not|had not|does not|do not|still has not|still have not)"
    r" (even |bother to |yet )?(turn up|show up|show|come|arrive|call|ring|phone|reply|respond"
    r"|answer|get back|come back|come out|fix|finish|complete|sort|attend|follow up|turned up"
    r"|shown up|arrived|called|rung|phoned|replied|responded|answered|got back|fixed|finished"
    r"|completed|sorted|attended|followed up)\b(?! (on|off|through|in)\b)",
    r"\b(not|never) (heard|had|received|got) (anything|back|a thing|a word|a (reply|response"
    r"|call|callback|letter|visit|update|date)|any (reply|response|update|word|news|call"
    r"|contact|acknowledgement|feedback))\b",
    r"\bno (reply|response|answer|call back|callback|update|updates|contact|feedback|word"
    r"|acknowledgement|explanation|apology|one answers)\b",
    r"\bstill (not|no|waiting|to hear|broken|leaking|not working|dripping|blocked|there"
    r"|unresolved|outstanding|nothing|the same|has not|have not|is not|are not|does not"
    r"|do not|will not)\b",
    r"\b(yet to|waiting to) (hear|be contacted|see anyone|get a reply|get a response)\b",
    # Reported again and again: the earlier responses did not put it right.
    r"\b(second|third|fourth|fifth|sixth|seventh|2nd|3rd|4th|5th|6th|7th|nth|umpteenth"
    r"|\d+th) time\b",
    r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|several|many|multiple|countless"
    r"|so many|numerous|loads of|lots of|a few) times\b",
    r"\b(again and again|over and over|time and time again|yet again)\b",
    r"\b(been|kept|keep|keeps|still) waiting\b",
    r"\bwaiting (for |since |over |nearly |almost |about |around )?(weeks|months|ages|years"
    r"|\d+ (days|weeks|months|years)|a (week|month|year|fortnight)|all day|in all day)\b",
    r"\b(waited|stayed) (in|at home|home|around) all day\b",
    r"\btook (a|the|half a) day off\b|\btook time off\b",
    r"\breported (it|this|that|the \w+|a \w+|my \w+)( \w+){0,3} (\d+|a|an|two|three|four|five"
    r"|six|several|a few|a couple of) (weeks|months|years|week|month|year) ago\b",
    r"\breported( it| this| that| the \w+| a \w+| my \w+)?( \w+){0,3} (last (week|month|year)|in"
    r" (january|february|march|april|may|june|july|august|september|october|november"
    r"|december))\b",
    # Contact that does not work.
    r"\b(can not|unable to|impossible to|could not) get (through|hold of|an answer|anyone"
    r"|a response|a reply)\b",
    r"\bon hold for\b|\brings out\b|\bkeep(s)? (being )?(passed|transferred|fobbed)\b",
    r"\b(keep|kept|have been|been|still) chasing\b",
    # Appointments and visits.
    r"\b(missed|cancelled|canceled|rescheduled|rearranged) (my|the|our|another|their|yet"
    r" another)( \w+)? (appointment|appointments|visit|repair|job)\b",
    r"\bappointment (was |got |has been |had been )?(cancelled|canceled|missed)\b",
    r"\bno show\b",
    # What was done, done badly.
    r"\b(left|leaving) (a|the|my \w+ in a)( \w+)? mess\b",
    r"\bmade (it|things|the \w+|everything|this) worse\b",
    r"\b(damaged|broke|ruined|scratched|smashed|stained) (my|our)\b",
    r"\b(botched|bodged|bodge|botch|cowboy job)\b",
    r"\bpainted over\b",  # a well-known non-repair of damp and mould
    r"\bnot (done|fixed|repaired|finished|sorted) (properly|correctly|right)\b",
    r"\bhalf (done|finished)\b",
    r"\b(promised|supposed to|meant to|was going to|were going to|said (they|he|she|you"
    r"|someone) would)\b.*\b(but|never|did not|still|not)\b",
    # A promise or a date that has passed.
    r"\b(i was|we were|i have been|we have been|i had been|we had been) promised\b",
    r"\b(was|were) (supposed|meant|due) to (be|have been|come|arrive|call|ring)\b",
    r"\b(turned up|arrived|came|showed up) (\w+ ){0,3}late\b",
    r"\bleft without (doing|fixing|finishing|repairing|sorting|a word)\b|\bwithout doing"
    r" anything\b",
    r"\bleft (my|the|our) (\w+ ){0,2}(insecure|open|unlocked|unsafe|broken|damaged|worse)\b",
    r"\b(damaged|broken|ruined|smashed|scratched|stained|insecure|open|unlocked|unsafe|mess)"
    r" by (your|the|their) (workmen|workman|contractor|contractors|engineer|engineers|plumber"
    r"|electrician|staff|operatives|builders|decorators|repair man|repair men)\b",
    r"\b(taking|took|takes) (so|too|this) long\b|\bso long to\b",
    r"\b(not|never) been (collected|emptied|cleaned|cut|done|fixed|repaired|sorted|replaced"
    r"|touched|looked at|dealt with)\b",
    r"\b(trying|tried) to get (hold of|through|an answer|a response|a reply|someone)\b",
    r"\bnothing (has |have )?(been |was |is being )?(done|happened|changed|sorted|fixed)\b",
)

# A fault that keeps coming back means the earlier repair did not hold: the standard of
# service (CHC-1.2). Counted only when the message also reports a problem ("the gas man came
# again" is not a complaint). The engine can still log the repair (CHC-1.4).
_RECURRING: Final = _compile(
    r"\b(again|once again|back again|recurring|reoccurring|re occurring)\b",
    r"\b(keeps?|kept) (breaking|breaking down|coming back|happening|failing|returning"
    r"|going wrong|packing up)\b",
    r"\b(came|come|comes|coming) back\b",
    r"\b(is|are|has come|have come) back\b",
)

_ELEMENTS: Final = (
    r"(boiler|tap|taps|toilet|sink|basin|bath|shower|kitchen|bathroom|bedroom|living room"
    r"|lounge|hallway|hall|stairs|staircase|landing|window|windows|door|doors|lock|locks|roof"
    r"|ceiling|ceilings|wall|walls|floor|floors|flooring|floorboards|carpet|radiator|radiators"
    r"|rads|heating|heater|heaters|hot water|water|pipe|pipes|drain|drains|gutter|gutters"
    r"|guttering|downpipe|fence|gate|garden|path|lift|lifts|intercom|entry phone|door entry"
    r"|electrics|electric|electricity|socket|sockets|plug|switch|switches|light|lights"
    r"|lighting|fuse|fuse box|consumer unit|extractor|fan|cooker|oven|hob|cupboard|cupboards"
    r"|worktop|tiles|tile|plaster|skirting|banister|handrail|balcony|chimney|loft|cistern"
    r"|flush|overflow|smoke alarm|alarm|doorbell|letterbox|step|steps|shed|garage|wiring"
    r"|wires|pipework|sealant|grout|seal|flat|house|home|property|bin store|communal|estate"
    r"|stairwell|corridor)"
)
_FAULTS: Final = (
    r"(broken|busted|bust|leak|leaks|leaking|leaked|leaky|dripping|drips|not working|stopped"
    r" working|does not work|do not work|did not work|will not work|packed up|gave up|given up"
    r"|blocked|clogged|cracked|crack|cracks|damaged|loose|hanging off|falling off|fallen off"
    r"|came off|coming off|coming away|faulty|fault|out of order|overflowing|rotten|rotting"
    r"|stuck|jammed|(will|would|did|does|is|has|have|do) not (open|close|shut|lock|unlock"
    r"|flush|drain|turn on|turn off|start|light|come on|go off|stop|work|fire up|heat up)"
    r"|can not (open|close|shut|lock)|cold|freezing|tripping|trips"
    r"|flickering|smells|stinks|missing|not flushing|not draining|wobbly|sagging|bulging"
    r"|peeling|flaking|blown|burst|split|snapped|shattered|smashed|condensation|mould|mouldy"
    r"|damp|wet|soaking|sodden|noisy|banging|hole|holes|insecure|filthy|dirty|beeping"
    r"|chirping|smell|smelly|come off|come away|fell off"
    r"|no (heat|heating|hot water|water|power|electric"
    r"|electricity|gas|light|lights))"
)
_PROBLEM: Final = _compile(
    # These name a problem on their own.
    r"\b(leak|leaks|leaking|leaked|leaky|mould|mouldy|damp|condensation|blocked|infested"
    r"|infestation|mice|mouse|rats|rat|cockroaches|cockroach|bed bugs|bedbugs|pests|vermin"
    r"|fleas|wasps nest|woodworm|rot|rising damp)\b",
    r"\bflood(s|ed|ing)?\b(?! with (work|emails|calls|messages|requests|letters))",
    r"\bno (heating|heat|hot water|water|power|electric|electricity|gas)\b"
    r"(?! (pressure|bill|bills|meter|damage|bottle|problems?|issues?)\b)",
    # CHC-1.4: a request to put something right.
    r"\b(report|reporting|log|book|request|raise|need|arrange) (a |an |the )?(new )?(repair"
    r"|repairs|job|fault|problem|issue|leak)\b",
    r"\bneeds? (fixing|repairing|replacing|mending|looking at|sorting)\b",
    r"\b(light|lights|bulb|bulbs|lighting) (are |is |have |has )?(out|gone|blown|gone out)\b",
    r"\b(want|need|like|get|have) (my|the|our|it|this|them)( \w+){0,2} (fixed|repaired|replaced"
    r"|mended|sorted|looked at)\b",
    r"\bneed (a|an) (plumber|electrician|engineer|joiner|roofer|glazier|locksmith|repair)\b",
    r"\b(please|can you|could you|can someone|could someone|need (you|someone) to) (come and )?"
    r"(fix|repair|mend|replace|sort|look at|come out|check|send (someone|somebody|an engineer"
    r"|a plumber|an electrician|a workman|a contractor|a man|out|round))\b",
)
# Other faults count when a part of the home is named (see _is_problem).
_ELEMENT: Final = re.compile(rf"\b{_ELEMENTS}\b")
_FAULT: Final = re.compile(rf"\b{_FAULTS}\b")

# A reference on its own ("C-7K3Q-9XF4"): C or R, then eight symbols in two groups of four,
# hyphens and spaces optional.
_REFERENCE_SHAPE: Final = re.compile(
    r"(?<![A-Za-z0-9])([CR])[\s-]?([0-9A-Z]{4})[\s-]?([0-9A-Z]{4})(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def _mentions_reference(raw: str) -> bool:
    """Return whether ``raw`` contains something shaped like a case reference.

    Eight letters after a C or R could be a word ("cupboards"), so a candidate counts only
    with a digit in it, a hyphen in it, or a check character that works out.
    """
    for match in _REFERENCE_SHAPE.finditer(raw):
        body = match.group(2) + match.group(3)
        if (
            any(ch.isdigit() for ch in body)
            or "-" in match.group(0)
            or _is_valid_reference(match.group(0))
        ):
            return True
    return False


@dataclass(frozen=True)
class _Message:
    raw: str
    words: str


def _is_help(message: _Message) -> bool:
    tokens = set(message.words.split())
    return bool(tokens & _HELP_WORDS) and tokens <= _HELP_WORDS | _HELP_FILLER


def _is_complaint(message: _Message) -> bool:
    return _matches(_COMPLAINT, _NEGATED_COMPLAINT.sub(" ", message.words))


def _is_dissatisfied(message: _Message) -> bool:
    return _matches(_GRIEVANCE, message.words) or _is_service_failure(message)


def _is_service_failure(message: _Message) -> bool:
    if _matches(_SERVICE_FAILURE, message.words):
        return True
    return _matches(_RECURRING, message.words) and _is_problem(message)


def _is_problem(message: _Message) -> bool:
    words = message.words
    return bool(
        _matches(_PROBLEM, words)
        or (_ELEMENT.search(words) and _FAULT.search(words))
        or detect_hazards(message.raw)
    )


def _status_or_dissatisfaction(message: _Message) -> Intent | None:
    """A request for an update, unless it also expresses dissatisfaction (CHC-1.3).

    "Any news? I have been waiting six weeks" must be offered a complaint; the engine knows the
    open case and can give its status alongside.
    """
    if not _matches(_STATUS, message.words):
        return None
    return Intent.DISSATISFACTION if _is_dissatisfied(message) else Intent.STATUS


def _rule(intent: Intent, test: Callable[[_Message], bool]) -> Callable[[_Message], Intent | None]:
    return lambda message: intent if test(message) else None


# The order matters: the first rule that answers wins.
_INTENT_RULES: Final[tuple[Callable[[_Message], Intent | None], ...]] = (
    # "Cancel my complaint" is a withdrawal, not "cancel this conversation".
    _rule(Intent.WITHDRAW, lambda m: _matches(_WITHDRAW, m.words)),
    # "Not happy with the response" names a complaint response: escalation (CHC-6.10).
    _rule(Intent.ESCALATE, lambda m: _matches(_ESCALATE, m.words)),
    # Short replies are whole-message matches, so they cannot swallow a longer message.
    _rule(Intent.CANCEL, lambda m: _matches(_CANCEL, m.words)),
    _rule(Intent.HELP, lambda m: _is_help(m) or _matches(_HELP, m.words)),
    _rule(Intent.YES, lambda m: _matches(_YES, m.words)),
    _rule(Intent.NO, lambda m: _matches(_NO, m.words)),
    # Asking for a person is honoured whatever else the message says.
    _rule(Intent.PERSON, lambda m: _matches(_PERSON, m.words)),
    _status_or_dissatisfaction,
    # Saying "complain" outright outranks everything else it says (CHC-1.3).
    _rule(Intent.COMPLAINT, _is_complaint),
    _rule(Intent.DISSATISFACTION, _is_dissatisfied),
    # CHC-1.4: a problem with no dissatisfaction expressed; the resident chooses.
    _rule(Intent.PROBLEM_REPORT, _is_problem),
    _rule(Intent.STATUS, lambda m: _mentions_reference(m.raw)),
)


def classify(text: str) -> Intent:
    """Return what a message is mainly about.

    The rules are tried in order (withdraw, escalate, the short replies, a person, status,
    complaint, dissatisfaction, problem report, a bare reference) and the first that applies
    wins. Dissatisfaction is read generously, because CHC-1.3 requires a complaint to be offered
    whenever it is expressed, whether or not the word "complaint" is used.

    Args:
        text: the message as the resident wrote it.

    Returns:
        The intent, or ``Intent.UNKNOWN`` when no rule applies.
    """
    message = _Message(raw=text, words=_normalise(text))
    if not message.words:
        return Intent.UNKNOWN
    for rule in _INTENT_RULES:
        intent = rule(message)
        if intent is not None:
            return intent
    return Intent.UNKNOWN


# ================================================================== hazards (Awaab's Law)

_ELECTRICAL_ITEMS: Final = (
    r"(socket|sockets|plug|plugs|switch|switches|fuse box|fusebox|consumer unit|light fitting"
    r"|light|lights|wiring|wires|electrics|meter)"
)
_HAZARD_RULES: Final[tuple[tuple[Hazard, tuple[re.Pattern[str], ...]], ...]] = (
    (
        Hazard.GAS,
        _compile(
            # A smell or a leak of gas; never "gas bill", "the gas man came", "gas safety check".
            r"\bsmell(s|ing|y|ed)? (of |like )?gas\b",
            r"\bgas (leak|leaks|leaking|smell|smells|escape|escaping|is leaking|is escaping)\b",
            r"\bleak(s|ing)? (of )?gas\b",
        ),
    ),
    (
        Hazard.CARBON_MONOXIDE,
        _compile(
            # "We need a carbon monoxide alarm" is a request, not a poisoning.
            r"\bcarbon monoxide\b"
            r"(?! (alarm|alarms|detector|detectors|monitor|tester|check|test)\b)",
            r"\b(carbon monoxide|co|co2) (alarm|detector|monitor)s? (\w+ ){0,2}(going off|gone off"
            r"|went off|goes off|sounding|beeping|bleeping|ringing|alarming|keeps going)\b",
        ),
    ),
    (
        Hazard.ELECTRICAL,
        _compile(
            r"\bspark(s|ing|ed)?\b(?! of)",  # not "a spark of hope"
            r"\b(exposed|bare|live|loose|hanging|dangling) (electrical |electric )?(wire|wires"
            r"|wiring|cable|cables)\b",
            r"\b(wire|wires|wiring|cables) (are |is )?(exposed|hanging out|sticking out|showing"
            r"|live|bare)\b",
            r"\b(electric|electrical) shocks?\b|\belectrocuted\b|\bshocked me\b",
            r"\b(got|get|getting|gave me|giving|had) (a |an )?(electric )?shocks? (off|from"
            r"|when)\b",
            rf"\b(burning|melting|melted|scorched|scorch|smoking|charred|blackened) (marks |smell"
            rf" )?(from |coming from |on |around |at )?(the |a |my )?{_ELECTRICAL_ITEMS}\b",
            rf"\b(smell|smells) of burning (from |coming from |at )(the |a |my )?"
            rf"{_ELECTRICAL_ITEMS}\b",
            rf"\b{_ELECTRICAL_ITEMS} (is |are |was |keeps )?(smoking|sparking|melting|melted"
            r"|burning|scorched|buzzing|crackling|hot to touch|too hot to touch)\b",
            # Water in the electrics is an emergency whatever the amount of water.
            r"\bwater (\w+ ){0,3}(in|into|through|onto|on|near|round|around|behind)"
            rf" (the |a |my )?{_ELECTRICAL_ITEMS}\b",
        ),
    ),
    (
        Hazard.FLOODING,
        _compile(
            r"\bflood(s|ed|ing)?\b(?! with (work|emails|calls|messages|requests|letters))",
            r"\bwater (\w+ ){0,2}(pouring|gushing|streaming|pissing|cascading|rushing|spraying"
            r"|everywhere)\b",
            r"\bwater (is )?(coming|pouring|leaking|dripping|running) (\w+ ){0,2}(through|from"
            r"|out of) (the |my |our )?(ceiling|roof|light fitting)\b",
            r"\b(burst|split) (water )?(pipe|pipes|main|mains|tank|water tank|cylinder)\b",
            r"\b(pipe|pipes|tank|main|cylinder) (has |have )?(burst|split)\b",
            r"\b(ankle|knee|inches) deep\b",
            r"\bsewage (coming|leaking|backing|overflowing|everywhere|pouring|all over)\b",
        ),
    ),
    (
        Hazard.STRUCTURAL,
        _compile(
            r"\b(ceiling|roof|wall|floor|floors|stairs|staircase|balcony|chimney|building|house"
            r"|extension|porch|lintel|beam|joist|joists) (\w+ ){0,2}(collapsed|collapsing|caved in"
            r"|caving in|fallen in|fallen down|fell down|fell in|came down|come down|coming down"
            r"|falling down|falling in|gave way|giving way|given way|sagging|bowing|bulging"
            r"|crumbling|coming away|pulling away)\b",
            r"\b(danger of|risk of|about to|going to) (collapse|come down|fall down|cave in)\b",
            r"\bstructural(ly)? (damage|problem|problems|issue|issues|fault|crack|cracks|movement"
            r"|defect|defects|failure|danger|concern|concerns|unsafe|unsound|damaged)\b",
            r"\b(is|be|looks|seems|sounds) structural\b",
            r"\bsubsidence\b",
            r"\bcrack(s|ed)? (\w+ ){0,6}(getting|gets|got|growing|grown|spreading|widening)"
            r" (bigger|wider|longer|worse)\b",
            r"\bcrack(s)? (\w+ ){0,6}(is|are|keeps|has been|have been) (growing|spreading"
            r"|widening)\b",
            r"\b(lump|lumps|chunk|chunks|bits|pieces|part|parts) of (the )?(ceiling|plaster|wall"
            r"|roof|brickwork|masonry) (\w+ ){0,2}(fell|fallen|falling|came down|coming down"
            r"|come down|dropped)\b",
        ),
    ),
    (
        Hazard.NO_HEATING_OR_WATER,
        _compile(
            # "No water pressure" or "no water damage" is not "no water".
            r"\bno (central )?(heating|heat|hot water|water|running water|cold water|water supply)"
            r"\b(?! (pressure|bill|bills|meter|damage|bottle|problems?|issues?)\b)",
            r"\b(without|have not got|not got|have not had|had no|got no|not had) (any )?"
            r"(central )?(heating|heat|hot water|water|running water)\b",
            r"\b(heating|boiler|hot water) (\w+ ){0,2}(not working|stopped working|does not work"
            r"|is not working|(will|would|did|does|has) not (come on|work|turn on|start|fire up"
            r"|light|heat up)|broken|broken"
            r" down|breaking down|packed up|gave up|given up|failed|died|dead|not coming on"
            r"|keeps cutting out|cutting out)\b",
            r"\b(heating|hot water|water|gas) (is |has been |been |got |was )?"
            r"(turned |cut |switched |gone )off\b",
            # All the radiators, not one: one cold radiator is a repair, not no heating.
            r"\b(radiators|rads) (are )?(all )?(stone |freezing |ice )?cold\b",
            r"\bnothing (comes|coming) out of (the|my) taps?\b",
        ),
    ),
    (
        Hazard.DAMP_AND_MOULD,
        # Damp and mould is an emergency hazard only when it affects health or is severe; the
        # condition is in _damp_is_a_hazard below, so "some mould in the bathroom" is not one.
        (),
    ),
    (
        Hazard.FIRE,
        _compile(
            # Not "on fire" alone: "I'm on fire today" is an idiom. A thing must be burning.
            r"\b(there is|there was|there has been) (a )?fire\b",
            r"\bfire (in|at|on|coming|started|broke out|is spreading|spreading|has started)\b",
            r"\b(caught|catching|catch|set) (on )?fire\b|\bset fire to\b",
            r"\b(flat|house|home|kitchen|room|building|bin|bins|cooker|oven|hob|socket|plug"
            r"|heater|boiler|wiring|shed|block|stairwell|chimney|fridge|dryer|washing machine|tv"
            r"|microwave|toaster|extension lead|charger|battery|pan|chip pan|curtains|sofa|bed"
            r"|mattress|it|something|everything) (is |are |was |were )?(on fire|ablaze|in flames)"
            r"\b",
            r"\bflames\b",
            r"\bsmoke (coming|pouring|billowing|everywhere|filling|is coming|from)\b",
            r"\b(full of|filled with|thick) smoke\b",
            # A burning smell from a socket or switch is electrical (above); anywhere else, fire.
            rf"\b(smell of burning|burning smell|smells of burning|smell burning|smells like"
            rf" burning|smelling burning)\b(?!.{{0,40}}\b{_ELECTRICAL_ITEMS}\b)",
        ),
    ),
)

_DAMP: Final = re.compile(
    r"\b(mould|mouldy|damp|condensation|mildew|fungus|fungi|black spots|spores)\b"
)
_DAMP_HEALTH: Final = re.compile(
    r"\b(asthma|asthmatic|baby|babys|babies|newborn|newborns|infant|infants|toddler|toddlers|breathing|breathe|breath"
    r"|chest(?! of drawers)|lungs?|cough|coughing|wheeze|wheezing|wheezy|ill|illness"
    r"|sick(?! of| and tired)|poorly|unwell|health|hospital|doctor|gp|allergy|allergies"
    r"|allergic|respiratory|infection|infections|copd|bronchitis|pneumonia|headaches|rash"
    r"|eczema)\b"
)
_DAMP_SEVERE: Final = re.compile(
    r"\b(severe|severely|covered|covering|everywhere|all over|spreading|the whole (wall|ceiling"
    r"|room|flat|house)|every room|really bad|very bad|terrible|awful|horrendous|appalling"
    r"|dripping|soaking|saturated|ruined|thick|huge|massive|extensive|out of control|toxic)\b"
)


def _damp_is_a_hazard(words: str) -> bool:
    """Awaab's Law: severe damp and mould affecting health is an emergency hazard."""
    return bool(_DAMP.search(words)) and bool(
        _DAMP_HEALTH.search(words) or _DAMP_SEVERE.search(words)
    )


def detect_hazards(text: str) -> tuple[Hazard, ...]:
    """Return the emergency hazards a message reports, in the order of :class:`Hazard`.

    These must be made safe within 24 hours under Awaab's Law, so the engine hands them to
    staff at once, whatever the complaint process is doing. No heating or water is flagged
    whoever the household is; the engine decides whether the household makes it an emergency.

    Args:
        text: the message as the resident wrote it.

    Returns:
        Each hazard found, once, in declaration order; empty when there is none.
    """
    words = _normalise(text)
    found: list[Hazard] = []
    for hazard, table in _HAZARD_RULES:
        if _matches(table, words) or (hazard is Hazard.DAMP_AND_MOULD and _damp_is_a_hazard(words)):
            found.append(hazard)
    return tuple(found)


_LIFE_THREATENING: Final = frozenset(
    {Hazard.GAS, Hazard.CARBON_MONOXIDE, Hazard.FIRE, Hazard.ELECTRICAL, Hazard.STRUCTURAL}
)


def is_life_threatening(hazards: Iterable[Hazard]) -> bool:
    """Return whether the resident must be told to call 999 or the gas emergency line now.

    Gas, carbon monoxide, fire, dangerous electrics and structural danger can kill before any
    repair arrives. The categories are coarse, so every electrical or structural hazard counts:
    telling someone with a widening crack to call 999 if they are in danger costs less than the
    opposite mistake.

    Args:
        hazards: hazards from :func:`detect_hazards`.

    Returns:
        True if any of them is life-threatening.
    """
    return any(hazard in _LIFE_THREATENING for hazard in hazards)


# ================================================================== abuse (CHC-5.14)

# Letters residents replace to dodge filters, and the symbols that mask a letter.
_LEET: Final[dict[str, str]] = {"a": "a4@", "e": "e3", "i": "i1!", "o": "o0", "s": "s5$", "u": "uv"}
_MASK: Final = r"*#@$%!._\-"


def _masked(word: str) -> str:
    """Return a pattern for ``word`` typed in full, masked (``f***``) or stretched (``fuuck``).

    The first letter is kept as typed; every later letter may be a look-alike or a mask symbol,
    and a vowel may be left out (``fck``).
    """
    parts = [re.escape(word[0]) + "{1,3}"]
    for letter in word[1:]:
        choices = re.escape(_LEET.get(letter, letter)) + _MASK
        optional = "?" if letter in "aeiou" else ""
        # At most three of each, so a long run of asterisks cannot make the search slow.
        parts.append(f"(?:[{choices}]{{1,3}}){optional}")
    return "".join(parts)


def _swear_table(words: Iterable[str], *, suffixes: str) -> re.Pattern[str]:
    alternatives = "|".join(_masked(word) for word in words)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:{suffixes})?(?![a-z0-9])")


# Strong swearing counts on its own: in a message to the landlord it lands on staff. The flag
# only reaches a person, who decides any restriction with reasons (CHC-5.14); it never stops a
# complaint. Mild words ("bloody", "damn", "crap", "hell", "pissed off") are frustration, not
# abuse, and are in no table.
_STRONG_SWEARING: Final = _swear_table(
    ("fuck", "cunt", "twat", "wanker", "motherfucker"),
    suffixes=r"s|ing|in|ed|er|ers|off|face|wit|wits|head|heads|y",
)
_F_OFF: Final = re.compile(r"(?<![a-z])(f|eff|f\*+) off\b")
# Insults count when aimed at someone: "you useless idiots", "bunch of morons". "I felt like an
# idiot" is not abuse.
_INSULTS: Final = (
    "bastard",
    "dickhead",
    "knobhead",
    "bellend",
    "tosser",
    "prick",
    "arsehole",
    "asshole",
    "bitch",
    "scumbag",
    "scum",
    "idiot",
    "moron",
    "imbecile",
    "cretin",
    "muppet",
    "shit",
    "piece of shit",
)
_INSULT: Final = "|".join(_masked(word) for word in _INSULTS)
_AIMED_INSULT: Final = re.compile(
    r"(?<![a-z])(you|u|ya|your|ur|you lot|you people|they|staff|bunch of|load of|set of|pack of"
    r"|lot of|shower of)\b(\W+\w+){0,3}?\W+"
    rf"(?:{_INSULT})(s|es)?(?![a-z])"
    rf"|(?<![a-z])(?:{_INSULT})(s|es)?\W+(you|u|ya)\b"
)
_TELL_OFF: Final = re.compile(r"\b(piss|sod|bugger) off\b(?! work)")
# Threats of violence or harm.
_THREAT_TARGETS: Final = (
    r"(you|u|ya|someone|somebody|anyone|him|her|them|your \w+|one of you|everyone|whoever"
    r"|the (staff|officer|contractor|engineer|plumber|man|woman|workman|workmen|manager|lot of"
    r" you|place|office|building))"
)
_THREATS: Final = _compile(
    r"\b(ill|i will|i am going to|i am gonna|i shall|i could|i would|i swear i will)\b"
    r"( \w+){0,6}? (hurt|kill|batter|stab|punch|smash|beat|knock|burn|attack|bomb|shoot"
    rf"|strangle|glass|headbutt|slap|thump|deck|murder|do|sort out|get) {_THREAT_TARGETS}\b",
    r"\b(you|u) (will|are going to|gonna) (regret|pay for|be sorry)\b",
    r"\bwatch your back\b|\bi know where you (live|work)\b",
    r"\b(hope|wish) (you|u|they) (all )?(die|get hurt|rot|burn)\b",
)
# Slurs: a short list, on purpose; a person reviews every flag.
_SLURS: Final = re.compile(
    r"(?<![a-z])(paki|pakis|n[i1!]gg(er|a)s?|retard|retards|retarded|spastic|spaz|spazzy|spacker"
    r"|faggot|faggots|tranny|trannies|chink|chinks|wog|wogs|gyppo|gypo|pikey|pikeys|coon"
    r"|coons)(?![a-z])"
)


def _abuse_text(text: str) -> str:
    """Lower-case ``text`` with apostrophes dropped, keeping the symbols that mask letters."""
    return re.sub(r"\s+", " ", _plain(text).replace("'", ""))


def is_abusive(text: str) -> bool:
    """Return whether a message contains abuse aimed at staff (CHC-5.14).

    Strong swearing (including masked forms like ``f***``), insults aimed at someone, threats
    and slurs count. Mild frustration does not: "this is bloody ridiculous", "damn mould". The
    answer is a flag for a person, never a restriction in itself.

    Args:
        text: the message as the resident wrote it.

    Returns:
        True if the message should be flagged to staff as unacceptable behaviour.
    """
    plain = _abuse_text(text)
    return bool(
        _STRONG_SWEARING.search(plain)
        or _F_OFF.search(plain)
        or _AIMED_INSULT.search(plain)
        or _TELL_OFF.search(plain)
        or _SLURS.search(plain)
        or _matches(_THREATS, plain)
    )


# ================================================================== distress and vulnerability

_DISTRESS: Final = _compile(
    r"\b(can not|not|barely|struggling to) cop(e|ing)\b",
    r"\bend of my (tether|rope)\b|\b(at|am at) my wits end\b|\bbreaking point\b",
    r"\b(want|going) to end it\b|\bend it all\b|\bend my (own )?life\b|\btake my (own )?life\b",
    r"\bkill myself\b|\bsuicid\w*\b|\bself harm\w*\b|\b(harm|hurt) myself\b",
    r"\b(do not|no longer) want to (live|be here|be alive|go on|wake up)\b",
    r"\bno point (living|going on|in living|in going on)\b|\bbetter off dead\b",
    r"\bnot worth living\b",
    r"\bdesperate\b|\bdesperation\b|\bin despair\b|\bhopeless\b",
    r"\bcrying (every|all|myself|each|most)\b|\bin tears\b|\bbreaking down\b",
    r"\bnervous breakdown\b|\bpanic attacks?\b|\banxiety attacks?\b",
    r"\b(can not|could not) take (it|this|any more|anymore|much more)\b",
    r"\b(losing|lost|going out of) my mind\b",
    r"\bmental health (is |has )?(suffering|getting worse|deteriorat\w*|declin\w*|been affected"
    r"|affected|terrible|in pieces)\b",
    r"\bdepressed\b|\bsuffering from depression\b",
    r"\bfeel(ing)? (so |very |really )?unsafe\b|\b(do not|never) feel safe\b",
    r"\bnot safe in my (own )?home\b|\b(scared|afraid|frightened|terrified) (for|of) my"
    r" (life|safety)\b|\bfear for my (life|safety)\b",
    r"\b(terrified|frightened|petrified)\b",
)


def shows_distress(text: str) -> bool:
    """Return whether a message shows the resident is in distress and needs a person now.

    Covers not coping, thoughts of ending their life, despair, crying, and feeling unsafe.
    Frustration with the service ("I'm fed up") is dissatisfaction, not distress.

    Args:
        text: the message as the resident wrote it.

    Returns:
        True if the conversation should be handed to a person with care.
    """
    return _matches(_DISTRESS, _normalise(text))


_VULNERABLE: Final = _compile(
    # Babies, young children, pregnancy: damp, cold and mould harm them first (Awaab's Law).
    r"\b(baby|babys|babies|newborn|newborns|new born|infant|infants|toddler|toddlers|pregnant"
    r"|pregnancy"
    r"|expecting a baby|expecting twins|maternity|young children|small children|young kids"
    r"|little ones)\b",
    r"\b\d{1,2} ?(week|month)s? old\b",
    r"\b[0-4] ?(year|yr)s? old (son|daughter|child|boy|girl|baby|kid|twins|grandson"
    r"|granddaughter)\b",
    # Older people.
    r"\b(elderly|pensioner|pensioners|oap|old age|frail|older person)\b",
    r"\b(7\d|8\d|9\d|1[01]\d) ?(year|yr)s? old\b",
    r"\b(i am|she is|he is|mum is|dad is|who is|aged) (7\d|8\d|9\d|1[01]\d)\b"
    r"(?! (pounds|quid|percent|minutes|days|weeks|times|calls))",
    r"\bin (my|his|her|their) (70s|80s|90s|seventies|eighties|nineties)\b",
    # Disability and mobility.
    r"\b(disabled|disability|disabilities|wheelchair|mobility (scooter|issues|problems|aid)"
    r"|walking (frame|stick|aid)|zimmer|crutches|bed ?bound|housebound|bedridden|blind"
    r"|partially sighted|visually impaired|deaf|hard of hearing|learning disabilit\w*|autism"
    r"|autistic|dementia|alzheimer\w*|parkinson\w*|multiple sclerosis|stroke|epilepsy"
    r"|epileptic|cerebral palsy|downs syndrome|down syndrome)\b",
    # Health conditions made worse by cold, damp or no water.
    r"\b(chronic (illness|pain|condition|fatigue|lung|heart|kidney)|long term (illness"
    r"|condition|health)|terminal|terminally ill|oxygen|cancer|chemo|chemotherapy|radiotherapy"
    r"|dialysis|asthma|asthmatic|copd|emphysema|bronchitis|cystic fibrosis|heart (condition"
    r"|problems|disease|failure)|diabetes|diabetic|sickle cell|immune ?(system|compromised"
    r"|suppressed)|immunocompromised|transplant|mental health|depression|anxiety|ptsd|bipolar"
    r"|schizophreni\w*|carer|cared for|vulnerable|arthritis|fibromyalgia|lupus|kidney (disease"
    r"|failure))\b",
)


def is_vulnerable_household(text: str) -> bool:
    """Return whether a message mentions someone in the home who is vulnerable (CHC-5.10).

    Babies and young children, pregnancy, older people, disability, and long-term or serious
    health conditions. The engine uses it to triage hazards (no heating or water is an
    emergency for a vulnerable household) and to record the vulnerability.

    Args:
        text: the message as the resident wrote it.

    Returns:
        True if such a person is mentioned.
    """
    return _matches(_VULNERABLE, _normalise(text))


# ================================================================== since when (CHC-2.3)

_NUMBER_WORDS: Final[dict[str, int]] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
    # "Several" is vague; reading it as three keeps the date late, so a possible 12-month
    # exclusion (CHC-2.2) is not triggered by our guess.
    "several": 3,
}
_MONTHS: Final[dict[str, int]] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "febuary": 2,
    "feburary": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUMBER: Final = (
    r"(?P<num>\d{1,3}|a couple of|a couple|couple of|a few|few|several|one|two|three|four|five"
    r"|six|seven|eight|nine|ten|eleven|twelve|an|a)"
)
_UNIT: Final = r"(?P<unit>days?|weeks?|wks?|fortnights?|months?|mnths?|mths?|years?|yrs?)"
# Words that make "three weeks" a time in a longer message ("for three weeks", "3 weeks ago").
_DURATION_CUE: Final = re.compile(
    r"\b(for|since|past|last|over|been|about|around|roughly|nearly|almost|approximately|approx"
    r"|over the last|in the last|in the past|the last|the past|at least|more than|just over"
    r"|maybe|probably|like|going on|well over)\s+$"
)
_DATE_CUE: Final = re.compile(
    r"\b(since|in|from|of|during|around|about|early|mid|late|end of|start of|beginning of"
    r"|back in|summer|winter|spring|autumn|christmas|easter|year)\s+$"
)
_SHORT_ANSWER_WORDS: Final = 8


class _Skip(Enum):
    """A rule matched words that are not a time here (a month name used as a verb, say)."""

    SKIP = "skip"


_SinceResult = date | None | _Skip
"""A date; None for a time that cannot be (in the future, or 31 February); or skip."""


def _most_recent(today: date, month: int, day: int) -> date | None:
    """Return the latest date with this month and day that is not after ``today``."""
    for year in range(today.year, today.year - 5, -1):  # 29 February: back to a leap year
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _months_before(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _checked(candidate: date, today: date) -> date | None:
    """A date the resident gave in full is refused, not moved, when it is in the future."""
    return candidate if candidate <= today else None


def _full_date(year: int, month: int, day: int, today: date) -> date | None:
    try:
        return _checked(date(year, month, day), today)
    except ValueError:
        return None


def _easter(year: int) -> date:
    """Return Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _short(text: str) -> bool:
    return len(text.split()) <= _SHORT_ANSWER_WORDS


def _before(match: re.Match[str]) -> str:
    return match.string[: match.start()]


def _since_iso(match: re.Match[str], today: date) -> _SinceResult:
    return _full_date(int(match["y"]), int(match["m"]), int(match["d"]), today)


def _since_numeric(match: re.Match[str], today: date) -> _SinceResult:
    """UK day-first: 01/06/2025 is 1 June. Without a year, only with slashes ("3.5" is not)."""
    day, month = int(match["d"]), int(match["m"])
    if match["y"] is None:
        if match["sep"] != "/" or not 1 <= month <= 12:
            return _Skip.SKIP
        try:
            date(2000, month, day)
        except ValueError:
            return None
        return _most_recent(today, month, day)
    year = int(match["y"])
    return _full_date(year + 2000 if year < 100 else year, month, day, today)


def _since_day_month(match: re.Match[str], today: date) -> _SinceResult:
    month, day = _MONTHS[match["month"]], int(match["day"])
    if match["year"]:
        return _full_date(int(match["year"]), month, day, today)
    try:
        date(2000, month, day)
    except ValueError:
        return None
    return _most_recent(today, month, day)


_MAY_CONTEXT: Final = re.compile(
    r"\b(since|in|from|of|around|about|early|mid|late|end of|start of|beginning of|middle of"
    r"|last|this|back in)\s+$"
)


def _since_month(match: re.Match[str], today: date) -> _SinceResult:
    """A month, perhaps with "last", "this", a year, or "early"/"mid"/"end of".

    Without a year it is the most recent such month that has begun ("since December", said in
    November 2026, is December 2025); "last March" is the same, except said in March, when it
    means a year ago. A day later than today is brought back to today.
    """
    name = match["month"]
    month = _MONTHS[name]
    rel, year_text, yrel, modifier = match["rel"], match["year"], match["yrel"], match["mod"]
    if (
        name == "may"
        and not (rel or year_text or yrel or modifier)
        and not _MAY_CONTEXT.search(_before(match))
        and match.string.strip() != "may"
    ):
        return _Skip.SKIP  # "it may be", "I may have"
    if year_text:
        year = int(year_text)
    elif yrel == "last year":
        year = today.year - 1
    elif yrel == "this year" or rel == "this":
        year = today.year
    else:
        year = today.year if month <= today.month else today.year - 1
        if rel == "last" and month == today.month:
            year -= 1
    first = date(year, month, 1)
    if first > today:
        return None
    if modifier in (None, "early", "beginning of", "start of"):
        day = 1
    elif modifier in ("mid", "middle of"):
        day = 15
    else:
        day = calendar.monthrange(year, month)[1]
    return min(date(year, month, day), today)


# How far back each unit goes, by its first letter: days, weeks, fortnights, months, years.
_COUNT_BACK: Final[dict[str, Callable[[date, int], date]]] = {
    "d": lambda today, count: today - timedelta(days=count),
    "w": lambda today, count: today - timedelta(weeks=count),
    "f": lambda today, count: today - timedelta(weeks=2 * count),
    "m": _months_before,
    "y": lambda today, count: _months_before(today, 12 * count),
}


def _since_relative(match: re.Match[str], today: date) -> _SinceResult:
    """Count back from today: "3 weeks ago", "for a couple of months", "about a year"."""
    before = _before(match)
    after = match.string[match.end() :]
    if re.search(r"\bin\s+$", before) or re.match(r"\s+(later|from now|time)\b", after):
        return _Skip.SKIP  # "in 2 weeks" is the future
    if match["num"] in ("a", "an") and re.search(r"(\d|once|twice|times|x)\s+$", before):
        return _Skip.SKIP  # "£2000 a year", "twice a week": how often, not since when
    ago = re.match(r"\s+(ago|back|now)\b", after) is not None
    if not (ago or _DURATION_CUE.search(before) or _short(match.string)):
        return _Skip.SKIP  # "I took a day off" says nothing about since when
    number = match["num"]
    count = int(number) if number.isdigit() else _NUMBER_WORDS[number]
    return _COUNT_BACK[match["unit"][0]](today, count)


def _since_half(match: re.Match[str], today: date) -> _SinceResult:
    return _months_before(today, 18 if match["whole"] else 6)


# "Last week/month/year" count back one unit from today (not to its start), so the date is
# never earlier than the resident meant.
_KEYWORDS: Final[dict[str, Callable[[date], date]]] = {
    "the day before yesterday": lambda today: today - timedelta(days=2),
    "day before yesterday": lambda today: today - timedelta(days=2),
    "yesterday": lambda today: today - timedelta(days=1),
    "last night": lambda today: today - timedelta(days=1),
    "the other day": lambda today: today - timedelta(days=3),  # "a few days ago"
    "earlier today": lambda today: today,
    "today": lambda today: today,
    "this morning": lambda today: today,
    "this afternoon": lambda today: today,
    "this evening": lambda today: today,
    "tonight": lambda today: today,
    "just now": lambda today: today,
    "last weekend": lambda today: today - timedelta(days=(today.weekday() - 5) % 7 or 7),
    "the weekend": lambda today: today - timedelta(days=(today.weekday() - 5) % 7 or 7),
    "last week": lambda today: today - timedelta(weeks=1),
    "this week": lambda today: today - timedelta(days=today.weekday()),
    "last month": lambda today: _months_before(today, 1),
    "this month": lambda today: today.replace(day=1),
    "the year before last": lambda today: _months_before(today, 24),
    "last year": lambda today: _months_before(today, 12),
    "this year": lambda today: date(today.year, 1, 1),
}


def _since_keyword(match: re.Match[str], today: date) -> _SinceResult:
    return _KEYWORDS[match.group(0)](today)


def _since_weekday(match: re.Match[str], today: date) -> _SinceResult:
    """Read "since Monday" or "last Tuesday" as the latest such day strictly before today."""
    weekday = _WEEKDAYS.index(match["weekday"])
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


_SEASON_STARTS: Final[dict[str, tuple[int, int]]] = {
    "christmas": (12, 25),
    "xmas": (12, 25),
    "boxing day": (12, 26),
    "new year": (1, 1),
    "new years": (1, 1),
    "new years day": (1, 1),
    "bonfire night": (11, 5),
    "halloween": (10, 31),
    "valentines": (2, 14),
    "valentines day": (2, 14),
    # Seasons by their meteorological start.
    "spring": (3, 1),
    "summer": (6, 1),
    "summer holidays": (7, 20),
    "autumn": (9, 1),
    "winter": (12, 1),
}


def _since_season(match: re.Match[str], today: date) -> _SinceResult:
    """Christmas, Easter, the summer: the latest one that has begun, or the one in a year given."""
    name = re.sub(r"\s+", " ", match["season"])
    year_text = match["year"]
    if name in ("easter", "easter holidays"):
        if year_text:
            return _checked(_easter(int(year_text)), today)
        this_year = _easter(today.year)
        return this_year if this_year <= today else _easter(today.year - 1)
    month, day = _SEASON_STARTS[name]
    if year_text:
        return _full_date(int(year_text), month, day, today)
    return _most_recent(today, month, day)


def _since_year(match: re.Match[str], today: date) -> _SinceResult:
    """A year on its own is its first day ("2024" → 1 January 2024), "mid 2024" is 1 July."""
    if not (_short(match.string) or match["mod"] or _DATE_CUE.search(_before(match))) or re.match(
        r"\s*(pounds|quid|£|%)", match.string[match.end() :]
    ):
        return _Skip.SKIP
    year = int(match["year"])
    month = {"mid": 7, "middle of": 7, "late": 12, "end of": 12}.get(match["mod"] or "", 1)
    return _checked(date(year, month, 1), today)


_MODIFIER: Final = (
    r"(?:(?P<mod>early|the beginning of|beginning of|the start of|start of|mid|the middle of"
    r"|middle of|late|the end of|end of)\s+)?"
)
_SINCE_RULES: Final[
    tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], _SinceResult]], ...]
] = (
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), _since_iso),
    (
        re.compile(
            r"(?<![\d/.-])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})"
            r"(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d/.-]*\d)"
        ),
        _since_numeric,
    ),
    (
        re.compile(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_NAMES})\b\.?"
            r"(?:,?\s+(?P<year>\d{4}))?"
        ),
        _since_day_month,
    ),
    (
        re.compile(
            rf"\b(?P<month>{_MONTH_NAMES})\.?\s+(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
            r"(?:,?\s+(?P<year>\d{4}))?"
        ),
        _since_day_month,
    ),
    (
        re.compile(
            rf"\b{_MODIFIER}(?:(?P<rel>last|this)\s+)?(?P<month>{_MONTH_NAMES})\b\.?"
            r"(?:\s+(?:of\s+)?(?:(?P<year>\d{4})|(?P<yrel>last year|this year)))?"
        ),
        _since_month,
    ),
    (
        re.compile(r"\b(?:(?P<whole>a|one) (?:year|yr) and a half|half an? (?:year|yr))\b"),
        _since_half,
    ),
    (re.compile(rf"\b{_NUMBER}\s*{_UNIT}\b"), _since_relative),
    (
        re.compile(r"\b(" + "|".join(sorted(_KEYWORDS, key=len, reverse=True)) + r")\b"),
        _since_keyword,
    ),
    (
        re.compile(rf"\b(?:last|this|since|on)?\s*(?P<weekday>{'|'.join(_WEEKDAYS)})\b"),
        _since_weekday,
    ),
    (
        re.compile(
            r"\b(?P<season>christmas|xmas|boxing day|new years day|new years|new year"
            r"|bonfire night|halloween|valentines day|valentines|easter holidays|easter"
            r"|spring|summer holidays|summer|autumn|winter)\b(?:\s+(?:of\s+)?(?P<year>\d{4}))?"
        ),
        _since_season,
    ),
    (
        re.compile(rf"(?<![£$€\d,.])\b{_MODIFIER}(?P<year>(?:19|20)\d{{2}})\b(?![\d,.]\d)"),
        _since_year,
    ),
)

# Said instead of a time; checked only when no time was found ("not sure, maybe March" is March).
_DONT_KNOW: Final = re.compile(
    r"\b(do not|don'?t|do'?nt) (know|remember|recall)\b|\b(can ?not|can'?t|cant|could ?n'?t)"
    r" (remember|recall|say)\b|\b(dunno|idk|not sure|unsure|no idea|no clue|not certain"
    r"|hard to say|ages|years|a long time|long time|forever|a while|donkeys|as long as i can"
    r" remember|unknown)\b"
)


def parse_since(text: str, today: date) -> SinceWhen | None:
    """Read when the resident became aware of a problem (CHC-2.3).

    The 12-month exclusion (CHC-2.2) counts from that day, so the engine records it.
    Understands dates ("2025-06-01", "01/06/2025" day first, "3rd June 2025"), months ("since
    March", "last March", "March 2025", "June"), counting back ("about 3 weeks ago", "a couple
    of months ago", "for two years"), words ("yesterday", "since last week", "last year"), days
    of the week, Christmas, Easter and the seasons, and a year on its own ("2024"). The first
    time mentioned wins. A month without a year is the most recent one that has begun.

    Args:
        text: the resident's answer, or a longer message that may mention a time.
        today: the day the resident wrote it (from the injected clock).

    Returns:
        The time found; ``SinceWhen(unknown=True)`` when the resident says they do not know; None
        when there is no time in ``text`` or the only one is after ``today`` (the engine asks
        again rather than guess).
    """
    stripped = text.strip()
    # Same length as ``stripped``, so a phrase found in it can be cut from the original.
    lowered = re.sub(r"\s", " ", stripped.translate(_APOSTROPHES).lower())
    best: tuple[int, int, date | None] | None = None
    for pattern, handler in _SINCE_RULES:
        for match in pattern.finditer(lowered):
            result = handler(match, today)
            if result is _Skip.SKIP:
                continue
            key = (match.start(), -(match.end() - match.start()))
            if best is None or key < best[:2]:
                best = (key[0], key[1], result)
    if best is not None:
        start, negative_length, found = best
        if found is None:
            return None
        words = (
            stripped
            if _short(stripped)
            else _since_phrase(stripped, lowered, start, -negative_length)
        )
        return SinceWhen(text=words, aware_on=found, unknown=False)
    if _DONT_KNOW.search(lowered):
        return SinceWhen(text=stripped, aware_on=None, unknown=True)
    return None


def _since_phrase(original: str, lowered: str, start: int, length: int) -> str:
    """Return the resident's words for the time in a long message, with "since"/"ago" kept."""
    before = re.search(r"(?:\b(?:since|for|about|around|from|in|back in)\s+)*$", lowered[:start])
    after = re.match(r"\s+(?:ago|back|now)\b", lowered[start + length :])
    begin = before.start() if before else start
    end = start + length + (after.end() if after else 0)
    if len(lowered) != len(original):
        return lowered[begin:end].strip()  # lower-casing changed the length (rare letters)
    return original[begin:end].strip()


# ================================================================== points of complaint (CHC-5.6)

# A line that starts a new point: a bullet, "1." / "1)" / "(1)", or "a)".
_LINE_MARKER: Final = re.compile(r"^\s*(?:[-*•·–—+>▪◦]|\(?\d{1,2}[.):]|\(?[a-hA-H][.)])\s+")
# Numbering inside one line: "1. the leak 2. nobody called back".
_INLINE_NUMBER: Final = re.compile(r"(?:^|(?<=\s))\(?(\d{1,2})[.)]\s+")
# Words that join two separate points in one line. A full stop alone does not: "The tap leaks.
# It has for weeks." is one point.
_POINT_JOINS: Final = re.compile(
    r"\s*;\s*"
    r"|\s*,?\s+and also\b[,:]?\s*"
    r"|(?<=[.!?])\s+(?:also|another thing(?: is)?|on top of that|as well as that|secondly"
    r"|thirdly|fourthly|lastly|plus)\b[,:]?\s*",
    re.IGNORECASE,
)
_POINT_LEAD: Final = re.compile(
    r"^(?:[-*•·–—+>▪◦]\s+|(?:firstly|first of all|and|also)\b[,:]?\s*|first,\s*)",
    re.IGNORECASE,
)
_POINT_TAIL: Final = re.compile(r"[\s,;:.]+$")
# A sign-off under an email is not a point of complaint.
_SIGN_OFF: Final = re.compile(
    r"^(thanks|thank you|many thanks|thanks again|regards|kind regards|best regards|best wishes"
    r"|cheers|yours sincerely|yours faithfully)\b[\s,.!]*((?-i:[A-Z][a-z]+)\s*){0,2}$",
    re.IGNORECASE,
)


def _numbered_pieces(line: str) -> list[str]:
    """Split ``line`` at inline numbers 1, 2, 3… in order; leave other numbers alone."""
    markers = list(_INLINE_NUMBER.finditer(line))
    numbers = [int(marker.group(1)) for marker in markers]
    if len(markers) >= 2 and numbers == list(range(1, len(markers) + 1)):
        starts = [marker.start() for marker in markers]
        ends = [marker.end() for marker in markers]
        pieces = [line[: starts[0]]] if starts[0] else []
        pieces += [line[end:stop] for end, stop in zip(ends, [*starts[1:], len(line)], strict=True)]
        return pieces
    if markers and markers[0].start() == 0 and numbers[0] == 1:
        return [line[markers[0].end() :]]
    return [line]


def _marked_chunks(lines: list[str]) -> list[str]:
    """Group bulleted or numbered lines; unmarked lines continue the point above (wrapped mail).

    An unmarked introduction ending in a colon ("My complaint is about:") is not a point.
    """
    chunks: list[str] = []
    continuing = False
    for line in lines:
        if not line.strip():
            continuing = False
            continue
        marker = _LINE_MARKER.match(line)
        if marker:
            chunks.append(line[marker.end() :].strip())
            continuing = True
        elif continuing:
            chunks[-1] = f"{chunks[-1]} {line.strip()}"
        elif not line.strip().endswith(":"):
            chunks.append(line.strip())
    return chunks


def split_points(text: str) -> list[str]:
    """Split a message into its separate points of complaint, for the complaint definition.

    Bulleted or numbered lines, inline numbering ("1. the leak 2. nobody called back"),
    semicolons, "and also", and a sentence starting "Also", "Secondly"… each start a new point.
    A single sentence stays one point; line breaks inside a point (wrapped email) are joined.

    Args:
        text: what the resident wrote.

    Returns:
        The points in order, without numbering, bullets or empty entries.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and any(_LINE_MARKER.match(line) for line in lines):
        chunks = _marked_chunks(text.strip().splitlines())
    else:
        chunks = _numbered_pieces(" ".join(line.strip() for line in lines))
    points: list[str] = []
    for chunk in chunks:
        if _SIGN_OFF.match(chunk.strip()):
            break  # the signature follows
        for piece in _POINT_JOINS.split(chunk):
            point = _POINT_TAIL.sub("", _POINT_LEAD.sub("", piece.strip()))
            if point:
                points.append(point)
    return points


# ================================================================== outcomes sought (CHC-5.6)

# How residents start saying what they want to happen.
_OUTCOME_FRAME: Final = re.compile(
    r"\b(?:i(?:'|\s+woul)?d\s+(?:really\s+|just\s+)?(?:like|prefer|appreciate|want)"
    r"|i\s+(?:just\s+|really\s+|only\s+|simply\s+)?(?:want|need|expect|demand)"
    r"|all\s+i\s+(?:want|ask|need)|what\s+i\s+(?:want|would\s+like|need)"
    r"|i(?:'m|\s+am|m)\s+(?:asking|looking|hoping)\s+for|i\s+hope\s+(?:you|they)"
    r"|please|pls|plz"
    r"|(?:can|could|would|will)\s+(?:you|u|someone|somebody|they)"
    r"|(?:you|they)\s+(?:should|need\s+to|must|ought\s+to))\b",
    re.IGNORECASE,
)
# ...but not when what follows is not an outcome: "I want to complain", "can you tell me",
# "please find attached".
_NOT_AN_OUTCOME: Final = re.compile(
    r"\s*(?:to\s+)?(?:complain|make\s+(?:a\s+|an\s+)?(?:formal\s+)?complaint|report|escalate"
    r"|know|ask|tell|speak|talk|find\s+out|check|withdraw|add|say|mention|point\s+out"
    r"|let\s+you\s+know)\b"
    r"|\s+(?:find|see|note|read|be\s+advised|bear\s+in\s+mind|excuse|ignore|forgive"
    r"|confirm|advise)\b"
    r"|\s+(?:tell|let)\s+me\b|\s+you\s+to\s+know\b",
    re.IGNORECASE,
)
_SENTENCE: Final = re.compile(r"[^.!?\n]+[.!?]*")
_OUTCOME_TAIL: Final = re.compile(r"[\s,;:.]+$")
# Where a sentence turns from the outcome back to the problem: "fix the window, it has been
# broken since May".
_OUTCOME_END: Final = re.compile(
    r",\s*(?:it|its|it's|this|that|which|because|as|since|but|they|he|she|we|i|my|the)\b",
    re.IGNORECASE,
)
# Remedies (CHC-7.1) named on their own: "an apology", "refund", "compensation".
_REMEDY_NOUNS: Final = re.compile(
    r"\b(apology|compensation|compensated|refund|refunded|reimburse\w*|money back|rent"
    r" (reduction|rebate|refund|back|free)|goodwill (payment|gesture)|rehous\w*|a transfer"
    r"|a move|moved|new (boiler|kitchen|bathroom|windows?|doors?|roof|carpets?|flooring"
    r"|heating|radiators?|home|flat|property)|an explanation|put (it|this|things) right"
    r"|made good|make good|redecorat\w*|a proper (repair|fix|job))\b"
)
_NEGATORS: Final = frozenset({"no", "never", "not", "without", "nor"})
# Remedies asked for in a few words: "fix it", "just sort it out", "to be kept updated".
_REMEDY_REQUESTS: Final = _compile(
    r"^(just |simply |only |i want |for (them|you|someone) to |to |have |get )*(fix|repair"
    r"|replace|mend|sort|treat|remove|clean|investigate|inspect|pay|refund|compensate"
    r"|apologise|apologize|explain|rehouse|move|send|come|make|put|keep|deal with)\b",
    r"\bto be (fixed|repaired|replaced|sorted|done|resolved|moved|rehoused|compensated"
    r"|kept (informed|updated)|treated|cleaned|removed)\b",
    r"\bget (it|this|them|the \w+) (fixed|repaired|replaced|sorted|done)\b",
    r"\b(fixed|repaired|sorted|done) (properly|correctly|asap|now|quickly)\b",
)


def extract_outcome(text: str) -> str | None:
    """Return the clause of a message that says what the resident wants to happen.

    Finds the first "I want…", "I would like…", "please…", "can you…" (and the like) that is
    not about complaining or asking a question, and returns it to the end of its sentence.

    Args:
        text: what the resident wrote.

    Returns:
        The clause in the resident's words, or None if none is found.
    """
    folded = text.translate(_APOSTROPHES)  # same length: positions carry over to ``text``
    for sentence in _SENTENCE.finditer(folded):
        for frame in _OUTCOME_FRAME.finditer(sentence.group(0)):
            if _NOT_AN_OUTCOME.match(sentence.group(0), frame.end()):
                continue
            start = sentence.start() + frame.start()
            turn = _OUTCOME_END.search(folded, start, sentence.end())
            clause = _OUTCOME_TAIL.sub("", text[start : turn.start() if turn else sentence.end()])
            if len(clause.split()) >= 2:
                return clause
    return None


def _names_remedy(words: str) -> bool:
    for match in _REMEDY_NOUNS.finditer(words):
        before = words[: match.start()].split()[-4:]  # "they never gave me an apology"
        if not _NEGATORS & set(before):
            return True
    return False


def looks_like_outcome(text: str) -> bool:
    """Return whether a message states an outcome the resident wants (CHC-5.6, CHC-7.1).

    "I want them to fix it", "I'd like compensation", "please repair", "an apology",
    "refund". A description of the problem alone ("my tap is leaking") is not an outcome.

    Args:
        text: what the resident wrote, typically the answer to "what would put this right?".

    Returns:
        True if the message asks for a remedy.
    """
    words = _normalise(text)
    return bool(
        extract_outcome(text) is not None
        or _names_remedy(words)
        or _matches(_REMEDY_REQUESTS, words)
    )


# ================================================================== location

# A UK postcode: outward code (M1, SW1A, LS14) and inward code (2AB), space optional.
_POSTCODE: Final = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[A-Z]{2}\b", re.IGNORECASE)
_STREET_TYPES: Final = (
    r"(?:street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|court|ct|crescent|cres|way"
    r"|place|pl|gardens|gdns|grove|terrace|tce|walk|square|sq|hill|mews|row|green|parade"
    r"|view|rise|park|vale|gate|mount|wharf|quay|yard|estate|boulevard|fields|meadow|meadows"
    r"|croft|chase|approach|heights|house|tower|towers|lodge|mansions|buildings|point|block"
    r"|hall|walk)"
)
_FLAT: Final = r"(?:flat|apartment|apt|unit|maisonette|room)\.?\s*\d{1,4}[a-z]?"
# "12 Acacia Avenue", "no. 12 Acacia Avenue", "flat 2, 12 Acacia Avenue".
_STREET_ADDRESS: Final = re.compile(
    rf"\b(?:{_FLAT}\s*,?\s+)?(?:(?:no\.?|number)\s*)?\d{{1,4}}[a-z]?\s*,?\s+"
    rf"(?P<name>(?:[a-z][a-z'’-]*\s+){{1,3}}){_STREET_TYPES}\b\.?",
    re.IGNORECASE,
)
# "flat 3, Oak House", "flat 3".
_UNIT_ADDRESS: Final = re.compile(
    rf"\b{_FLAT}\b(?:\s*,?\s+(?P<name>(?:[a-z][a-z'’-]*\s+){{1,3}}){_STREET_TYPES}\b)?",
    re.IGNORECASE,
)
# Words that show a number is not a house number: "12 days in court", "3 bedroom house".
_NOT_A_NAME: Final = _words(
    "the in a an of to at my our your his her their this that for and on is was are were"
    " days weeks months years hours minutes times day week month year hour minute time bed"
    " beds bedroom bedrooms bedroomed storey story floor floors people kids children old"
    " pounds quid calls flats houses rooms am pm"
)
_ADDRESS_LEAD: Final = re.compile(
    r"(?:address(?:\s+is)?|post\s*code(?:\s+is)?|live[sd]?\s+(?:at|in)|living\s+(?:at|in)|located\s+(?:at|in)"
    r"|property\s+(?:at|is)|\bat|\bin)\s*:?\s+",
    re.IGNORECASE,
)
_ADDRESS_GAP: Final = re.compile(r"^[\s,]*(?:[A-Za-z][A-Za-z'’-]*[\s,]+){0,4}$")


def _plausible(match: re.Match[str]) -> bool:
    name = match.group("name")
    return name is None or not _NOT_A_NAME & set(name.lower().split())


def _first_address(text: str) -> re.Match[str] | None:
    candidates = [
        match
        for pattern in (_STREET_ADDRESS, _UNIT_ADDRESS)
        for match in pattern.finditer(text)
        if _plausible(match)
    ]
    if not candidates:
        # A unit with an implausible building ("flat 3 in the block") is still "flat 3".
        return re.search(rf"\b{_FLAT}\b", text, re.IGNORECASE)
    return min(candidates, key=lambda match: (match.start(), -(match.end() - match.start())))


def extract_location(text: str) -> str | None:
    """Return the address a message gives, in the resident's words.

    Understands a house number and street ("12 Acacia Avenue"), a flat and building ("flat 3,
    Oak House"), and postcodes ("M1 2AB", "SW1A 1AA"); a postcode pulls in the rest of its
    address line. A room ("in my kitchen") is not an address.

    Args:
        text: what the resident wrote.

    Returns:
        The address, or None if there is none.
    """
    address = _first_address(text)
    postcode = _POSTCODE.search(text)
    if address is not None:
        end = address.end()
        if postcode is not None and postcode.start() >= end:
            gap = text[end : postcode.start()]
            if "\n" not in gap and _ADDRESS_GAP.match(gap):
                end = postcode.end()
        return text[address.start() : end].strip(" ,.")
    if postcode is None:
        return None
    line_start = text.rfind("\n", 0, postcode.start()) + 1
    line = text[line_start : postcode.end()]
    sentence_break = max(line.rfind(mark) for mark in ".!?;")
    segment_start = sentence_break + 1 if sentence_break >= 0 else 0
    leads = list(_ADDRESS_LEAD.finditer(line, segment_start))
    if leads:
        segment_start = leads[-1].end()
    return line[segment_start:].strip(" ,.:") or postcode.group(0)


# ================================================================== automatic email replies

_AUTO_SUBJECT: Final = re.compile(
    r"\b(out of (the )?office|automatic reply|auto[\s-]?reply|autoreply|auto[\s-]?response"
    r"|automated response|delivery status notification|undeliverable|undelivered mail"
    r"|mail delivery (failed|failure|subsystem)|delivery failure|returned mail|failure notice"
    r"|away from (the )?office|on annual leave|message not delivered)\b",
    re.IGNORECASE,
)
# In the body only wording no resident would write about their home.
_AUTO_BODY: Final = re.compile(
    r"\b(this is an automatic(ally generated)? (reply|response|message)|automatically"
    r" generated|auto-generated|this mailbox is not monitored|delivery status notification"
    r"|mail delivery failed|could not be delivered|couldn'?t be delivered|was not delivered to"
    r"|delivery has failed|undeliverable|mailer-daemon|postmaster@|i am currently out of the"
    r" office|i'?m currently out of the office)\b",
    re.IGNORECASE,
)


def is_auto_reply(subject: str, text: str) -> bool:
    """Return whether an email is an automatic reply or a bounce, not a resident writing.

    Answering an out-of-office or a delivery failure would start a loop of emails and could
    log a complaint nobody made.

    Args:
        subject: the email's subject line.
        text: the email's plain-text body.

    Returns:
        True if the email should not be treated as a message from a resident.
    """
    return bool(_AUTO_SUBJECT.search(subject) or _AUTO_BODY.search(text.translate(_APOSTROPHES)))
