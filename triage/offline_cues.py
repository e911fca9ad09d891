"""The offline rules' built-in cues: weighted patterns for the default categories and
for each urgency, written for folded text (lower case, no accents, straight
apostrophes). `triage.fallback` scores a ticket with them.
"""

from __future__ import annotations

import re

__all__ = [
    "BUILT_IN",
    "CALM",
    "HIGH",
    "LOW",
    "MEDIUM",
    "QUIET",
    "SCOPE",
    "STOP_WORDS",
    "Rule",
    "rules",
]

Rule = tuple[re.Pattern[str], float]
"""A compiled pattern and what a match adds to the score."""


def rules(weight: float, *sources: str) -> tuple[Rule, ...]:
    """Every pattern in `sources`, compiled, each worth `weight`."""
    return tuple((re.compile(source), weight) for source in sources)


# Patterns are written for folded text: lower case, no accents, straight apostrophes.
# Tables read best dense, several patterns a line.
# fmt: off
MONEY = r"[$€£]\s?\d|\d\s?(€|eur|euros?|usd|dollars?)\b|\br\$"
BUILT_IN: dict[str, tuple[Rule, ...]] = {
    "billing": rules(
        2, r"\binvoic", r"\brefund", r"\bcharg(e|ed|es|ing)\b", r"\bovercharg", r"\bchargeback",
        r"\bbill(ed|ing|s)?\b", r"\bsubscri(be|bed|ption)", r"\bpric(e|es|ing)\b",
        r"\breceipts?\b", r"\bfactur", r"\brechnung", r"\bfatura", r"\breembols", r"\brembours",
        r"\berstatt", r"\bcobr(a|o|an|ar|aron|anca|ado)\b", r"\babgebucht|\babbuchung",
        r"\bpreleve", r"\bzahlung", r"\bpagamento|\bpago\b|\bpaiement",
        r"\bsuscripcion|\babonnement|\bassinatura", r"\bdiscount|\bdescuento|\brabatt\b",
        r"\bpreis|\bprecio|\bpreco\b|\bprix\b", r"\b(vat|tax|w-?9)\b",
        r"\bpaypal\b|\bwire transfer|\bbank transfer|\bsepa\b|\blastschrift",
        r"\bpayments?\b|\bpaid\b|\bpay(ing)?\b", r"\brenew", MONEY, r"\bseats?\b",
        r"\b(free|pro|team|business|starter|enterprise|annual|monthly|yearly) (plan|billing)\b",
    ) + rules(
        1, r"\b(credit |debit |company )?cards?\b|\bcartao\b|\btarjeta\b|\bamex\b",
        r"\bdeclined\b", r"\bcost", r"\bhow much\b", r"\btrial\b", r"\b(up|down)grad",
        r"\bquote\b", r"\bplano?\b", r"\bmoney\b|\bdinero\b|\bgeld\b|\bargent\b|\bdinheiro\b",
        r"\bcancel", r"\bpurchase",
    ),
    "account": rules(
        3, r"\blog ?(in|into|on)\b|\blogg(ed|ing) (in|into|out)\b|\bsign(ed)? ?in\b",
        r"\bpassw(or)?d|\bpasswort|\bcontrasena|\bmot de passe|\bsenha\b",
    ) + rules(
        2, r"\b2fa\b|\btwo[- ]factor", r"\bsign(ed)? ?up\b",
        r"\bdouble authentification|\bauthenticator|\bverification code|\bone-time code",
        r"\bsso\b|\bsaml\b|\bokta\b|\bazure ad\b|\bscim\b", r"\blocked\b|\bbloquead|\bgesperrt",
        r"\bhack|\binvadid|\bcompromised", r"\busername|\buser name|\bdisplay name",
        r"\b(change|update|changed) .{0,30}\be-?mail\b|\be-?mail (address )?of (my|the) ",
        r"\b(delete|deleted|deleting|close|closing|remove|cancel) (my |our |the )?"
        r"(data and )?account",
        r"\b(mi|la) cuenta\b|\b(mon|le) compte\b|\b(minha|a) conta\b|\b(mein|das) konto\b",
        r"\bconnect(er|e)\b|\bentrar\b|\banmelden|\beinloggen",
        r"\b(reset|recovery|recuperacion) ", r"\bzurucksetzen|\brecuper",
        r"\bsessions?\b|\bdevices?\b", r"\bapi tokens?\b", r"\brevoke",
        r"\badmins?\b|\bowner(ship)?\b", r"\binvit(e|ed|ation)", r"\bpersonal data\b",
        r"\bdelete (all )?(my|our) data", r"\baccess\b", r"\bsuspended\b",
    ) + rules(
        1, r"\baccounts?\b|\bcuenta\b|\bcompte\b|\bconta\b|\bkonto\b", r"\bmerge",
        r"\bprofile\b", r"\bcredentials\b", r"\bgdpr\b", r"\bphishing\b",
    ),
    "bug": rules(
        2, r"\berr(or|ors|o|eur)\b|\bfehler\b", r"\bcrash|\bsturzt ab|\btrava\b|\bse cuelga",
        r"\bbroken\b|\bkaputt", r"\bexception\b|\btraceback\b|\b\w+error\b",
        r"(?<![$\d.,])\b(40[0-9]|42[0-9]|50[0-4])\b(?![.,]\d)", r"\bbugs?\b|\bglitch",
        r"\b(doesn'?t|does not|won'?t|isn'?t|can'?t|cannot|didn'?t) (work|load|open|sync|save"
        r"|render|show|find|update|respond)",
        r"\bnot (working|loading|syncing|saving|showing|firing|arriving|rendering|updating"
        r"|responding)",
        r"\bno (funciona|carga|hace nada)|\bno cargan?",
        r"\bfunktioniert nicht|\bgeht nicht|\bne (marche|fonctionne) pas|\bnao (funciona|carrega)",
        r"\bne (trouve|charge|s'ouvre|s'affiche) (pas|plus)\b",
        r"\bdoes nothing\b|\bnothing happens\b", r"\bfail(s|ed|ing|ure)?\b|\bfalha|\bfallo",
        r"\b(blank|white|empty|grey) (page|screen|box|file)|\ben blanco\b",
        r"\bstuck\b|\bspinning|\bfreez|\bhangs\b",
        r"\bslow\b|\btakes (about |like )?(a|\d+) (minute|second)",
        r"\boutage\b|\bausgefallen|\ben panne",
        r"\b(is|are|went|goes|was|seems|been|completely) down\b|\bdown\?"
        r"|\bdown (for|since|again)\b",
        r"\bstopped (working|syncing|arriving|loading|firing)", r"\btim(e|es|ing) ?out\b",
        r"\b(since|after) (the |today'?s |last night'?s |this morning'?s |your |our )?"
        r"(update|release|maintenance|migration|upgrade)",
        r"\b(are|is) gone\b|\bdisappear|\bvanish|\bmissing\b",
        r"\btypo\b|\bunreadable\b|\bcuts off\b|\boff by one\b|\bdon'?t add up\b|\bjumps back\b",
        r"\bleak(s|ing|ed)?\b|\boverwritten\b|\bduplicat",
        r"\bwrong (tasks|numbers|recipients|data)",
        r"\bnothing\b.{0,20}\bload|\bwon'?t (load|open)\b",
    ) + rules(
        1, r"\btwice\b|\bdouble\b|\b\dx\b", r"\blost\b|\bdeleted\b|\bempty\b", r"\bwrong\b",
        r"\blate\b", r"\bsync", r"\bexpected\b", r"\bagain\b",
        r"\b(android|ios|iphone|ipad|safari|firefox|chrome|edge|macos|windows|mobile app"
        r"|desktop app|browser)\b",
        r"\bapi\b|\bwebhook|\bendpoint",
        r"\b(export|import|upload|attachments?|search|dashboard|calendar|report|editor|button"
        r"|page)s?\b",
    ),
    "feature_request": rules(
        3, r"\bwould (be|love)\b|\bit'?d be\b|\b(we|i)'?d love\b", r"\b(i|we) wish\b",
        r"\bfeature\b", r"\b(please|pls|plz|could you|can you) add\b|\badd .{0,40}\bplease\b",
        r"\bany (plans?|chance)\b|\broadmap\b|\b(is that|is it) planned\b",
        r"\bseria (genial|util|bueno|otimo|bom)|\bme encantaria|\bgostaria",
        r"\bware (super|schon|toll|gut|praktisch|hilfreich)|\bwurde mir wunschen|\bwunsch",
        r"\bce serait\b|\bil serait (utile|bien|pratique)|\bj'aimerais",
        r"\bsuggestion\b|\bidea\b", r"\bcan (we|i) (get|have) an? (option|way|setting)",
        r"\b(an|the) option to\b", r"\b(a|any) way to\b|\bability to\b",
        r"\ballow (us|me|admins|users|guests) to\b", r"\bdark mode\b",
        r"\bsupport for\b|\b(will|would) you support\b|\byou'?ll support\b",
        r"\bsomething you could build\b|\banything like that coming\b|\bcoming soon\b",
    ) + rules(1, r"\bintegration\b", r"\black of\b", r"\bplease\b|\bpls\b"),
    "other": rules(
        2, r"\bthanks?\b|\bthank you\b|\bdanke\b|\bgracias\b|\bmerci\b|\bobrigad",
        r"\bwrong (chat|channel|person)\b",
        r"\bsoc ?2\b|\biso 27001\b|\btrust center\b|\bwhitepaper\b|\bdata processing agreement"
        r"|\bsecurity questionnaire\b|\bvendor review\b",
        r"\blegal (department|team|action|notice)|\blawyer|\battorney|\bsubpoena|\btrademark"
        r"|\bformal notice\b",
        r"\bsupport hours\b|\bdocumentation\b|\bon-?prem|\bstatus page\b"
        r"|\b(talk|speak) to (a|an|someone|somebody)\b",
    ) + rules(
        3, r"\bpartner(ship)?\b|\baffiliat|\bjournalist|\bpress\b|\binterview\b|\bcase study\b"
        r"|\bconference\b|\bhiring\b",
    ) + rules(
        # Spam and prompt injection win whatever product words they borrow.
        6, r"\bsystem prompt\b|\bignore (all )?(previous|prior|your) instructions",
        r"\bclick here\b|\bgift card\b|\bfollowers\b|\bseo\b|\brank #?1\b|\bbest prices\b"
        r"|\bcheap\b|\bcasino\b|\bcrypto\b",
    ),
}
"""Each default category's patterns, found by name in whatever taxonomy is in use."""
QUIET = ("feature_request", "other")
"""Built-in categories whose tickets can wait unless something says otherwise."""
CALM = re.compile(
    r"\bnot (that |very |super |really )?(urgent|critical|important|a big deal)\b"
    r"|\bno (rush|hurry)\b|\bnot blocking\b|\bno es urgente\b|\bnicht dringend\b"
)
HIGH: tuple[Rule, ...] = rules(
    3, r"\boutage\b|\bausgefallen|\ben panne\b|\bcaido\b|\bincident\b",
    r"\b(is|are|went|goes|was|seems|been|completely) down\b|\bdown\?|\bdown (for|since|again)\b",
    # data loss
    r"\bdata loss\b|\blost (all|our|my|a day|weeks|everything|\d+)|\b(are|is|all) gone\b"
    r"|\bgone from|\bdeleted (half|all|everything|my|our)|\bwiped\b|\bmissing data\b"
    r"|\b(we'?re|we are) missing|\btrash is empty\b|\bare empty\b|\bempty (files|across)\b",
    # security and privacy
    r"\bsecurity\b(?! (team|review|questionnaire|whitepaper|report|page|settings?))|\bbreach"
    r"|\bhack|\binvadid|\bcompromis|\bleak|\bphishing\b|\bstolen\b|\bfraud|\bunauthori[sz]ed"
    r"|\bdon'?t recogni[sz]e|\b(not|wasn'?t) me\b|\bn'etait pas moi\b|\bunknown device\b"
    r"|\bsomeone (logged|is logged|changed|is trying|used|entered)|\balguien entro"
    r"|\bquelqu'un|\bprivate (notes|data)|\b(other|another|different) (customers?|company"
    r"|companies|workspace)|\beach other'?s\b|\bxss\b|\bvulnerab"
    r"|\bprivacy (issue|incident|breach|problem|violation)"
    r"|\b(former|ex-?) ?employee|\blet go\b|\bterminated\b|\bfired\b",
    # legal
    r"\blawyer|\battorney|\blegal (action|department|team|notice)|\bsubpoena|\bcourt\b|\bsue\b"
    r"|\bdata protection authority|\bconsumer protection|\bformal notice|\bdisput|\bchargeback"
    r"|\breport(ing)? you\b",
    # money taken wrongly
    r"\bcharged twice\b|\bdouble[- ]charg|\b(two|2|three|3|\d+) (identical |separate )?charges\b"
    r"|\bagain on the\b|\bcharged every\b|\b\d+x\b|\bdos veces|\bdeux fois\b|\bdoppelt\b"
    r"|\b(charg|bill|paid|payment|took)\w* .{0,30}\b(\d+|two|three|four|multiple|several) times\b"
    r"|\bduplicad|\bstill (being )?charg|\bcharged (after|even though|despite)"
    r"|\btook .{0,25}\bfrom (my|our)\b|\bnever (agreed|signed up|authori)|\bdidn'?t authori"
    r"|\bovercharg|\bwhere is my money\b",
    r"\blosing (orders|events|money|customers|data|sales)\b",
) + rules(
    2, r"\burgent|\bdringend\b|\basap\b|\bimmediately\b|\bright now\b|\bsofort\b|\bcritical\b"
    r"|\bemergency\b|!!!|\bproduction\b|\bprod\b|\bdemo in\b|\bdeadline today\b|\bmonth-end\b",
)
SCOPE: tuple[Rule, ...] = rules(
    # Many people affected: an incident in a report, not in a how-do-I question.
    3, r"\beveryone\b|\banyone (on|in|at)\b|\bfor anyone\b|\bfor every user\b"
    r"|\bevery (user|member|one of us|page|project|request)\b|\bevery \w+ request\b"
    r"|\ball (of )?(our |the )?(users|customers|members|staff|admins|people|servers|projects"
    r"|accounts)\b|\b(whole|entire) (team|company|org|organi[sz]ation|office)\b"
    r"|\b(nobody|no one|none of us|niemand|nadie|ninguem) (in|at|on|here|bei|can|could|is able)\b"
    r"|\bnone of (the|our) \w+ (load|work)|\beverything'?s? (is )?(broken|down)\b"
    r"|\bdas ganze team\b|\btoda a equipe\b|\btodo el equipo\b|\bequipo entero\b"
    r"|\btoute (notre|l') ?equipe\b|\b\d+ (people|users|of us)\b"
    r"|\bhalf (of )?(our|the) (team|users|company)\b|\bacross every\b|\bcan'?t work\b"
    r"|\bkann arbeiten\b",
)
MEDIUM: tuple[Rule, ...] = rules(
    2, r"\bcan'?t\b|\bcannot\b|\bunable\b|\blocked\b|\bstuck\b|\bblocked\b|\bsuspen",
    r"\bnever (arrives|arrived|came|comes)\b|\bdeclined\b|\brejected\b|\bno luck\b|\btried\b",
    r"\b(doesn'?t|does not|don'?t|won'?t|isn'?t|not) (work|load|open|arriv|accept)"
    r"|\bgoes? wrong\b",
    r"\berr(or|o|eur)\b|\bfehler\b|\bfail|\bbroken\b|\bcrash|\bsturzt|\btrava\b|\bno funciona\b",
    r"\bfunktioniert nicht|\bgeht nicht|\bne (marche|fonctionne) pas|\bnao chega|\bno puedo\b",
    r"\bn'arrive (pas|plus)\b|\b(today|tomorrow|by (friday|monday|end of))\b",
    r"\bwhy\b|\bstill\b|\?\?|\brefund|\bgo back\b|\bdelete",
)
LOW: tuple[Rule, ...] = rules(
    2, r"\bhow (do|can|would|should|much|long) ", r"\bis (there|it possible)\b",
    r"\bquestion\b", r"\b(can|could|may) (i|we) ",
    r"\bdo you (have|offer|support|accept|provide|send)\b", r"\bdoes (the|your|it)\b",
    r"\bwhat('?s| is| are| do)\b|\bwhere (can|do|is|are) (i|we|the|my)\b",
    r"\bcurious\b|\bwondering\b|\bsuggestion\b|\bidea\b|\bminor\b|\bsmall thing\b|\bwhenever\b",
    r"\bwhen you have time\b|\bfyi\b|\bheads up\b|\bwould (be|love)\b|\bit'?d be\b",
    r"\b(i|we) wish\b|\b(we|i)'?d love\b|\bany (plans?|chance)\b",
    r"\bthanks?\b|\bthank you\b|\bdanke\b|\bgracias\b|\bmerci\b|\bobrigad",
    r"\btypo\b|\bcosmetic\b|\bfeature\b", r"\bwie geht\b|\bgibt es\b|\bcomo (puedo|posso|se)\b",
    r"\bcomment (puis|faire)\b|\bqual\b|\bpuedo\b|\best-ce que\b",
    r"\b(please|pls|can you|could you|i'?d like to|i would like to) (update|change|send|move"
    r"|remove|downgrade|resend|issue|reissue|switch)\b|\bi'?d like to\b",
) + rules(1, r"\?")
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for",
    "from", "had", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "no",
    "not", "of", "on", "or", "our", "please", "so", "that", "the", "their", "them", "then",
    "there", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who",
    "why", "will", "with", "would", "you", "your", "just", "get", "got", "can't", "don't",
))
# fmt: on
