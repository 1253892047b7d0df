"""Business wording read as the plain question it stands for, before the question is tagged.

Cost controllers and planners ask "how's the crane budget looking", "where are we bleeding money",
"what should've gone back already". Each idiom here has one fixed reading, the one the question sets'
conventions settled on, written as a plain phrasing the grammar already reads ("total plan cost, total
forecast cost and total variance"). Only the idiom's own words are replaced: the rest of the question
("on cranes", "at the jetty", "next month") stays and is read, or declined, as usual, so an idiom never
hides a word. Each rephrasing adds a note saying how the idiom was read, so the explanation states it.

A rule is a pattern over the lower-cased question and a function from its match to the plain words.
Wording whose reading is not settled ("running late": slipped, or overdue on site?) is not here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from nlq.ask.providers import NotUnderstood
from nlq.ask.semantic.dates import MONTHS

# Dimensions as business questions name them: the dimension each stands for, and whether it is plural.
_DIM_WORDS = {
    "area": ("area", "silo", "zone", "location"), "category": ("category",), "class": ("class", "kit type",
    "type of kit", "kind of kit", "type of gear"), "manufacturer": ("supplier", "manufacturer", "make", "brand",
    "vendor"), "model": ("model",)}
_PLURAL_OF = {"class": "classes", "category": "categories", "type of kit": "types of kit",
              "kind of kit": "kinds of kit", "type of gear": "types of gear"}
_PLURALS = {"area": "areas", "category": "categories", "class": "classes", "manufacturer": "manufacturers",
            "model": "models"}
_DIMS: dict[str, tuple[str, bool]] = {}
for _dim_name, _words in _DIM_WORDS.items():
    for _word in _words:
        _DIMS[_word] = (_dim_name, False)
        _DIMS[_PLURAL_OF.get(_word, _word + "s")] = (_dim_name, True)
DIM = r"(?P<dim>" + "|".join(sorted((re.escape(d) for d in _DIMS), key=len, reverse=True)) + r")"
KIT = r"(?:kit|gear|plant|equipment|stuff|items?|bits? of kit)"
MOST = r"(?:the )?(?:most|worst|hardest|biggest|furthest)"
# Overspending said as a ranking ('bleeding money', 'blowing the budget') or as a state ('overspending')
# that ranks only with a superlative ('overspending the most'); a superlative may come before or after.
RANKING = (r"(?:blowing (?:the|its|their|our|his|her) budgets?|blowing budgets?|bleeding(?: " + MOST
           + r")? money|haemorrhaging money|hemorrhaging money|hurting us(?: " + MOST
           + r")? on (?:cost|costs|spend|budget)|(?:furthest|most) over budget|losing(?: " + MOST + r")? money)")
STATE = r"(?:overspending|overrunning|over budget|overspent|over plan)"
AFTER = r"(?: (?:the )?(?:most|worst|hardest|fastest))"
OVERSPEND = r"(?:" + RANKING + AFTER + r"?|(?:" + MOST + r" )" + STATE + AFTER + r"?|" + STATE + AFTER + r")"
POSITION = ("total plan cost, total forecast cost and total variance")
OVERDUE = "overdue"


@dataclass(frozen=True)
class Rule:
    """One idiom: where it is found, the plain words it stands for, and what the explanation says."""

    name: str
    pattern: re.Pattern
    plain: Callable[[re.Match], str]
    reading: Callable[[re.Match], str]
    position: bool = False  # a cost position: the variance in percent of plan is shown beside it


def _dim(m: re.Match, plural: bool) -> str:
    """The plain dimension word for the one the idiom said ('where' is the area)."""
    said = m.groupdict().get("dim")
    name = _DIMS[said][0] if said else "area"
    return _PLURALS[name] if plural else name


def _plural(m: re.Match) -> bool:
    said = m.groupdict().get("dim")
    return bool(said and _DIMS[said][1]) or bool(m.groupdict().get("n"))


def _ranked(by: str) -> Callable[[re.Match], str]:
    """'which 3 classes are blowing the budget worst' -> 'top 3 classes by total variance'."""
    def plain(m: re.Match) -> str:
        if m.groupdict().get("n"):
            return f"top {m.group('n')} {_dim(m, True)} by {by}"
        if _plural(m):  # 'which suppliers are hurting us most': how many is not said, and sets differ
            raise NotUnderstood(
                f"The offline reader does not guess how many {_dim(m, True)} '{m.group(0)}' asks for, so it does "
                f"not answer rather than guess. Rephrase, e.g. \"top 5 {_dim(m, True)} by total variance\"; "
                f"\"which {_dim(m, False)} has the highest total variance\"; \"{_dim(m, True)} with total variance "
                "above 0\".", words=[m.group(0)], understood=[])
        return f"which {_dim(m, False)} has the highest {by}"
    return plain


def _rule(name: str, pattern: str, plain: Callable[[re.Match], str] | str,
          reading: Callable[[re.Match], str] | str, position: bool = False) -> Rule:
    return Rule(name=name, pattern=re.compile(r"(?<![\w'])" + pattern + r"(?![\w'])"),
                plain=plain if callable(plain) else (lambda m, p=plain: p),
                reading=reading if callable(reading) else (lambda m, r=reading: r), position=position)


def _said(m: re.Match) -> str:
    return f"'{m.group(0).strip()}'"


WHICH = (r"(?:which|what)(?: (?P<n>\d+))? " + DIM
         + r"(?:(?:'s)?(?: (?:kit|gear|plant|equipment|stuff|items))| of (?:kit|gear|plant|equipment)|'s)?")
WHO = r"(?:who(?:'s| is| are|se (?:" + KIT + r") (?:is|are))|whose (?:" + KIT + r") (?:is|are))"
def _slash_date(m: re.Match) -> str:
    """'15/01/2027' -> '15 jan 2027': day first, as the site writes dates; '01/15/2027' has no month
    15, so it is month first. A date that is neither stays as it was said."""
    a, b, year = int(m.group("a")), int(m.group("b")), int(m.group("y"))
    day, month = (a, b) if 1 <= b <= 12 else (b, a)
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return m.group(0)
    return f"{day} {calendar.month_abbr[month].lower()} {year}"


def _month_range(m: re.Match) -> str:
    """'January to June 2026' -> 'between 1 jan 2026 and 30 jun 2026'; a range the wrong way round stays."""
    year = int(m.group("y"))
    first, last = MONTHS.get(m.group("a").lower()), MONTHS.get(m.group("b").lower())
    if first is None or last is None or last < first:
        return m.group(0)
    end = calendar.monthrange(year, last)[1]
    return f"between 1 {calendar.month_abbr[first].lower()} {year} and {end} {calendar.month_abbr[last].lower()} {year}"


def _half_year(m: re.Match) -> str:
    year = m.group("y") or m.group("y2")
    first = (m.group("which") or "").lower() in ("first", "1st") or (m.group("h") or "").lower() == "h1"
    return f"between 1 jan {year} and 30 jun {year}" if first else f"between 1 jul {year} and 31 dec {year}"


def _part_of_month(m: re.Match) -> str:
    """'the first week of march 2026' -> 'between 1 mar 2026 and 7 mar 2026'; a half is days 1-15 / 16-end."""
    month, year = m.group("m")[:3], int(m.group("y"))
    number = MONTHS[m.group("m")]
    last = calendar.monthrange(year, number)[1]
    length = {"week": 7, "fortnight": 14, "half": 15}[m.group("unit")]
    which = m.group("which").lower()
    if which in ("first", "1st"):
        a, b = 1, length
    elif which in ("second", "2nd") and m.group("unit") == "half":
        a, b = 16, last
    elif which in ("second", "2nd"):
        a, b = length + 1, 2 * length
    else:  # the last week / fortnight / half
        a, b = (16, last) if m.group("unit") == "half" else (last - length + 1, last)
    return f"between {a} {month} {year} and {b} {month} {year}"


MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
ORDINAL = r"(?:st|nd|rd|th)?"
RULES: tuple[Rule, ...] = (
    # -- dates written with slashes: day first ('15/01/2027'), unless only month first can be a date ---
    _rule("slash_date", r"(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)/(?P<y>20\d\d)", _slash_date,
          lambda m: f"{_said(m)} read as {_slash_date(m)}" + (" (day first)" if int(m.group("b")) <= 12 else
                                                               " (month first: no month {})".format(m.group("b")))),
    _rule("calendar_period", r"(?P<w>this|next|last) calendar (?P<u>year|month|quarter)",
          lambda m: f"{m.group('w')} {m.group('u')}", lambda m: f"{_said(m)} read as {m.group('w')} {m.group('u')}"),
    # -- 'by actual dates': what actually happened ----------------------------------------------------
    _rule("by_actual_dates", r"(?:going |judging )?(?:by|on|using|from|based on) (?:the )?actual dates,?",
          "actually", lambda m: f"{_said(m)} read as what actually happened (the actual dates)"),
    # -- halves of a year, and the first / last week or half of a month ------------------------------
    _rule("half_year", r"(?:(?:in|during|over|for) )?(?:the )?(?P<which>first|second|1st|2nd|last) half of "
          r"(?:the year )?(?P<y>20\d\d)|(?:(?:in|during|for) )?(?P<h>h1|h2) (?P<y2>20\d\d)", _half_year,
          lambda m: f"{_said(m)} read as {_half_year(m)}"),
    _rule("part_of_month", r"(?:(?:in|during|over|for) )?(?:the )?(?P<which>first|second|1st|2nd|last) (?P<unit>week|"
          r"half|fortnight) (?:of|in) (?P<m>" + MONTH + r") (?P<y>20\d\d)", _part_of_month,
          lambda m: f"{_said(m)} read as {_part_of_month(m)}"),
    # -- a range of whole years: 'for 2026 to 2029', 'from 2026 through 2028' ---------------------------
    _rule("year_range", r"(?:between (?P<a1>20\d\d) and (?P<b1>20\d\d)|(?:(?:for|from) )?(?P<a>20\d\d) ?(?:to|-|until|till|through|thru) ?(?P<b>20\d\d))",
          lambda m: f"between 1 jan {m.group('a') or m.group('a1')} and 31 dec {m.group('b') or m.group('b1')}",
          lambda m: f"{_said(m)} read as the years {m.group('a') or m.group('a1')} to {m.group('b') or m.group('b1')}"),
    _rule("periods_of_year", r"(?:(?:for|in|over|across) )?the (?:months|quarters|weeks) of (?P<y>20\d\d)",
          lambda m: f"in {m.group('y')}", lambda m: f"{_said(m)} read as in {m.group('y')}"),
    # -- a range of whole months in one year: 'January to June 2026', 'from march through may 2027' -----
    _rule("month_range", r"(?:(?:from|between) )?(?P<a>" + MONTH + r") ?(?:to|-|until|till|through|thru|and) ?(?P<b>"
          + MONTH + r") (?P<y>20\d\d)", _month_range,
          lambda m: f"{_said(m)} read as the months {m.group('a')} to {m.group('b')} {m.group('y')}"),
    # -- a range of days in one month: 'between 9 and 15 Feb 2026', 'from the 3rd to the 10th of march' --
    _rule("day_range", r"(?:(?P<lead>between|from) )?(?:the )?(?P<a>[0-3]?\d)" + ORDINAL + r" ?(?P<join>and|to|-|until|"
          r"till|through) (?:the )?(?P<b>[0-3]?\d)" + ORDINAL + r"(?: of)? (?P<m>" + MONTH + r")(?P<y> \d{4})?",
          lambda m: f"{m.group('lead') or 'from'} {m.group('a')} {m.group('m')}{m.group('y') or ''} "
                    f"{'and' if m.group('lead') == 'between' else 'to'} {m.group('b')} {m.group('m')}{m.group('y') or ''}",
          lambda m: f"{_said(m)} read as the days {m.group('a')} to {m.group('b')} of {m.group('m')}"
                    f"{m.group('y') or ''}"),
    # -- where the money is going wrong: groups ranked by their net overrun -------------------------
    _rule("overspend_ranked", WHICH + r" (?:is|are|has been|have been)(?: (?:we|us))? " + OVERSPEND,
          _ranked("total variance"),
          lambda m: f"{_said(m)} read as the {_dim(m, _plural(m))} ranked by total cost variance (forecast - "
                    "plan), the biggest overrun first"),
    _rule("overspend_where", r"where(?:'s| is| are)(?: we)? " + OVERSPEND, "which area has the highest total variance",
          lambda m: f"{_said(m)} read as the area with the biggest total cost variance (forecast - plan)"),
    _rule("overspend_who", WHO + r" " + OVERSPEND,
          "which manufacturer has the highest total variance",
          lambda m: f"{_said(m)} read as the manufacturer with the biggest total cost variance (forecast - plan)"),
    # -- groups over or under their budget, as groups -------------------------------------------------
    _rule("groups_under", r"(?:which|what|any) " + DIM + r"(?: of kit| kit)?(?: (?:is|are))?(?: (?:coming in|running|"
          r"tracking|sitting|coming))? (?:under|below) (?:budget|plan)", lambda m: f"which {_dim(m, True)} have "
          "total variance below 0", lambda m: f"{_said(m)} read as the {_dim(m, True)} whose total forecast cost "
          "is below their total plan cost (total variance below 0)"),
    _rule("groups_over", r"(?:which|what|any) " + DIM + r"(?: of kit| kit)?(?: (?:is|are))?(?: (?:coming in|running|"
          r"tracking|sitting|coming))? (?:over budget|above budget|over plan|overspending|overspent|overrunning)"
          r"(?!" + AFTER + r")",
          lambda m: f"which {_dim(m, True)} have total variance above 0",
          lambda m: f"{_said(m)} read as the {_dim(m, True)} whose total forecast cost is above their total plan "
                    "cost (total variance above 0)"),
    # -- the cost position: budget, forecast, variance (and variance in % of budget) in one row --------
    _rule("position_looking", r"how(?:'s| is| are|s)(?: (?:the|our))?(?P<x>(?: [\w-]+){0,3}?) (?:budgets?|cost "
          r"position|costs|spend|position)(?: (?:looking|doing|tracking|holding up|shaping up|going))",
          lambda m: POSITION + (f" for{m.group('x')}" if m.group("x").strip() else ""),
          lambda m: f"{_said(m)} read as the cost position: total plan cost (budget), total forecast cost and "
                    "total variance (forecast - plan), with the variance in % of the plan", position=True),
    _rule("position_what", r"(?:what(?:'s| is|s)|whats|show me|give me)(?: (?:the|our))? cost position",
          POSITION, lambda m: f"{_said(m)} read as the cost position: total plan cost (budget), total forecast "
          "cost and total variance (forecast - plan), with the variance in % of the plan", position=True),
    _rule("position_trouble", r"is(?: (?:the|our))?(?P<x>(?: [\w-]+){0,3}?) budget in trouble",
          lambda m: POSITION + (f" for{m.group('x')}" if m.group("x").strip() else ""),
          lambda m: f"{_said(m)} read as the cost position: total plan cost (budget), total forecast cost and "
                    "total variance (forecast - plan), with the variance in % of the plan", position=True),
    _rule("position_how_much_over", r"how much are we (?:over|under|overspent|over budget|under budget)"
          r"(?: budget)?(?= (?:at|on|for|in|with)\b)", POSITION,
          lambda m: f"{_said(m)} read as the cost position: total plan cost (budget), total forecast cost and "
                    "total variance (forecast - plan), with the variance in % of the plan", position=True),
    _rule("position_are_we", r"are we (?:over or under|under or over|over|under|overspent|underspent|"
          r"over budget or under|running over|running under)(?: (?:budget|plan|the budget))?",
          POSITION, lambda m: f"{_said(m)} read as the cost position: total plan cost (budget), total forecast "
          "cost and total variance (forecast - plan), with the variance in % of the plan", position=True),
    _rule("position_is_it", r"^(?:is|are) (?!(?:it|this|that|they|those|these|there|he|she|we)\b)(?P<x>(?:the )?[\w -]+?) (?:over or under|under or over|over|under|"
          r"overspent|underspent|running over|running under) (?:budget|plan|the budget)",
          lambda m: f"{POSITION} for {m.group('x')}",
          lambda m: f"{_said(m)} read as the cost position of {m.group('x')}: total plan cost (budget), total "
                    "forecast cost and total variance (forecast - plan), with the variance in % of the plan",
          position=True),
    # -- kit that should have gone back: overdue (on site, forecast end before today) -----------------
    _rule("overdue", r"(?:that )?(?:should(?:'ve| have) (?:gone back|been returned|been sent back|come back|"
          r"been off[- ]?hired|gone off[- ]?hire|left(?: site)?|been demobbed|been demobilised|finished)"
          r"(?: already| by now)?|should already (?:be|have been) (?:off[- ]?hire[d]?|gone|back|returned)"
          r"(?: but (?:is|are) still (?:sitting )?on site)?|late (?:coming|going) back|"
          r"overstaying(?: (?:its|their|the) (?:off[- ]?hire|end|finish|return) dates?)?)",
          OVERDUE, lambda m: f"{_said(m)} read as overdue: on site with its forecast end before today"),
    _rule("off_hire_first", r"(?:what|which (?:rentals?|hire kit|kit|gear|items?))(?: should| shall| could)"
          r" (?:i|we) (?:off[- ]?hire|send back|return|get rid of) first",
          "overdue rentals ranked by monthly rate",
          lambda m: f"{_said(m)} read as the overdue rentals (on site past their forecast end), the highest "
                    "monthly rate first"),
    # -- what is coming and going ------------------------------------------------------------------
    _rule("arrivals", r"(?:landing|rolling in|rolling onto|rolling on to|coming in|coming onto|coming on to|"
          r"mobilising|mobilizing|mobbing|turning up|showing up)(?: (?:on|to|at|onto) site)?"
          r"(?: (?:at|to|onto|on to|on|in))?(?= (?:the|next|this|in|over the next|within|soon|between|by|on|at|"
          r"before|during|[a-z]+ \d{4}|\d)\b|\s*\??$)",
          "starting", lambda m: f"{_said(m)} read as a forecast start"),
    _rule("departures", r"(?:leaving site|leaving the site|going off site|coming off site|wrapping up|"
          r"winding up|finishing up|demobbing|going back|heading back|due off hire|coming off[- ]hire|"
          r"going off[- ]hire)", lambda m: "on site ending" if "site" in m.group(0) else "ending",
          lambda m: f"{_said(m)} read as a forecast end" + (" of kit on site now" if "site" in m.group(0) else "")),
    _rule("soon", r"(?:(?:in|over|within|during) )?(?:the )?(?:next|coming) (?:couple of weeks|fortnight)"
          r"|(?:in|within) a fortnight", "in the next 14 days", lambda m: f"{_said(m)} read as the next 14 days"),
    _rule("soon_30", r"(?:coming up |very )?soon(?:ish)?", "in the next 30 days",
          lambda m: f"{_said(m)} read as the next 30 days"),
    # -- what is paid each month: the monthly rates ('how much hire are we paying each month') ---------
    _rule("paid_monthly", r"how much(?: (?P<hire>hire|rent|rental))?(?: (?:are|do|did) we| we're| we are| is| are)?"
          r" (?:paying|spending|pay|spend|costing us|costing|going out)(?: (?:in|on|for) (?P<hire2>hire|rent|rentals))?"
          r" (?:each|per|a|every) month", lambda m: "total monthly rate" + (
              " of rentals" if m.group("hire") or m.group("hire2") else ""),
          lambda m: f"{_said(m)} read as the total of the monthly rates"),
    # -- how busy an area is in a period: the records on hire then (the forecast period overlaps it) ---
    _rule("how_busy", r"how busy (?:is|are|will) (?!next\b|this\b|last\b)(?P<x>(?:the )?[a-z0-9 ]+?)(?: going to be|"
          r" gonna be| be| looking)?(?= (?:next|this|last|in|over|during|on|between)\b)",
          lambda m: f"how many items on hire at {m.group('x')}",
          lambda m: f"{_said(m)} read as the number of records on hire (forecast period overlapping the period)"),
    # -- arrivals that are late: not cancelled, not on site, forecast start already past ---------------
    _rule("late_arrivals", r"(?:has not|hasn't|hasnt|have not|haven't|havent|not yet|yet to|still not)"
          r" (?:turned up|arrived|shown up|landed|been delivered|mobilised|mobilized|come)(?: yet)?"
          r"(?: (?:that|which|but|when it|when they|though it|though they))? should(?:'ve| have)"
          r"(?: (?:done|been|arrived|turned up|shown up|landed|by now|already|on site|here))*",
          "not cancelled and not on site with forecast start before today",
          lambda m: f"{_said(m)} read as not on site, not cancelled, and with its forecast start before today"),
    _rule("late_arrivals_should", r"(?:that |which )?should(?:'ve| have) (?:started|arrived|turned up|shown up|landed|"
          r"been delivered|mobilised|mobilized|come)(?: (?:by now|already|on site|here))* but (?:has not|hasn't|"
          r"hasnt|have not|haven't|havent|not)(?: yet)?(?: (?:arrived|turned up|shown up|landed|been delivered|come|"
          r"started|mobilised|mobilized))?(?: yet)?",
          "not cancelled and not on site with forecast start before today",
          lambda m: f"{_said(m)} read as not on site, not cancelled, and with its forecast start before today"),
    _rule("on_hire_kit", r"on hire (?:kit|gear|plant|equipment|items|stuff)", "on rentals",
          lambda m: f"{_said(m)} read as rentals"),
    # -- money words --------------------------------------------------------------------------------
    _rule("damage", r"(?:the|our) damage(?: so far| to date)?|(?:have we |we've |we have )?sunk (?:in|into)",
          lambda m: "total actual cost" + (" of" if "sunk" in m.group(0) else ""),
          lambda m: f"{_said(m)} read as the total actual cost (spent so far)"),
    _rule("cancelled_money", r"(?:(?:how much (?:money |cost |cash )?(?:is |are )?)?(?:are we |we are |we're )?still (?:paying|paying for|forecast on|forecast for|hanging on|"
          r"sitting on|carrying|booked on|committed on)(?: (?:on|for|against))?)(?= (?:stuff |kit |gear |items |things |the )?"
          r"(?:we've |we have |that's been |that has been |that are |that were )?(?:cancel|discontinu))",
          "total forecast cost of", lambda m: f"{_said(m)} read as the total forecast cost"),
    _rule("tied_up", r"(?:how much )?(?:(?:cash|money|capital) (?:is |are |we have |we've )?)?(?:tied up|locked up|committed|sunk) (?:in|on) (?:(?:the )?(?:kit|"
          r"gear|plant|equipment|stuff|items) )?(?:we've |we have |that we've |that we )?(?:bought|purchased|"
          r"owned)(?: kit| gear| plant| equipment| items)?",
          "total purchase price of purchases",
          lambda m: f"{_said(m)} read as the total purchase price of purchases"),
    _rule("big_ticket", r"(?:(?P<n>\d+) )?(?:big|biggest|largest)[- ]ticket (?:(?P<noun>purchases?|buys?)|"
          r"(?P<thing>items?|things?) (?:we(?:'ve| have)? |that we(?:'ve| have)? )?(?:bought|purchased))",
          lambda m: (f"top {m.group('n')} purchases by purchase price" if m.group("n") else
                     "top 10 purchases by purchase price" if (m.group("noun") or m.group("thing")).endswith("s")
                     else "top 1 purchase by purchase price"),
          lambda m: f"{_said(m)} read as purchases by purchase price"),
    _rule("line_item", r"(?:single )?(?:biggest|largest|most expensive) line items?",
          lambda m: "top 10 records by forecast cost" if m.group(0).endswith("s") else
          "the record with the highest forecast cost",
          lambda m: f"{_said(m)} read as the record(s) with the highest forecast cost"),
    _rule("costing_most", r"(?:which|what) (?:" + KIT + r") (?:is|are) costing (?:us )?(?:the )?most(?= *\??$)",
          "top 10 records by forecast cost", lambda m: f"{_said(m)} read as the 10 records with the highest "
          "forecast cost"),
    _rule("common_kit", r"(?:our |the )?most (?:popular|common|used) (?:bit of kit|piece of kit|bits of kit|kit|"
          r"type of kit|kit type|type of equipment)", "class with the most records",
          lambda m: f"{_said(m)} read as the class with the most records"),
    _rule("go_to_supplier", r"(?:who(?:'s| is) )?(?:our |the )?(?:go[- ]to|main|usual|favourite|favorite|preferred) (?:supplier|"
          r"manufacturer|make|brand|vendor)", "manufacturer with the most records",
          lambda m: f"{_said(m)} read as the manufacturer with the most records"),
    _rule("spend_most_with", r"(?:who(?:'s| is)? (?:our )?biggest supplier(?: by (?:spend|cost|value))?|"
          r"who (?:are|do|did) we (?:spend|spending|paying|pay)(?: the)? most (?:with|to)(?:,? supplier[- ]wise)?|"
          r"(?:which|what) supplier (?:do|are) we (?:spend|spending|pay|paying)(?: the)? most (?:with|on|to))",
          "which manufacturer has the highest total forecast cost",
          lambda m: f"{_said(m)} read as the manufacturer with the highest total forecast cost"),
    _rule("cost_driver", r"(?:our |the )?(?:biggest|main|largest|top) cost drivers?",
          "category with the highest total forecast cost",
          lambda m: f"{_said(m)} read as the category with the highest total forecast cost"),
    _rule("bulk_of_spend", r"(?:which|what) " + DIM + r" (?:is|are) (?:the bulk|most) of (?:our|the) (?:spend|"
          r"money|cost|budget) going (?:to|on|into)", lambda m: f"which {_dim(m, False)} has the highest total "
          "forecast cost", lambda m: f"{_said(m)} read as the {_dim(m, False)} with the highest total forecast cost"),
    _rule("where_money_goes", r"where(?:'s| is|s) (?:most of |the bulk of )(?:the |our )?(?:money|spend|cost)"
          r" (?:going|being spent|spent)", "total forecast cost per category",
          lambda m: f"{_said(m)} read as the total forecast cost per category"),
)

# 'how much' before an idiom that names its own total: the same question, asked once
_HOW_MUCH = re.compile(r"how much(?: (?:money|cash|cost|have|has|had|did|do|does|are|is|we|we've|we're|been|"
                       r"us|our|the))*\s*$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class Rephrased:
    question: str
    notes: list[str]
    position: bool


def rephrase(question: str) -> Rephrased:
    """The question with each business idiom replaced by its plain words, and a note per idiom."""
    text = " ".join(question.translate(_APOSTROPHES).split())
    lowered = text.lower()
    notes: list[str] = []
    position = False
    for rule in RULES:
        m = rule.pattern.search(lowered)
        if m is None:
            continue
        plain, before = rule.plain(m), lowered[:m.start()]
        if plain.startswith("total ") and (asked := _HOW_MUCH.search(before)):  # 'how much have we sunk into'
            before = before[:asked.start()]
        notes.append(rule.reading(m))
        position = position or rule.position
        lowered = before + plain + lowered[m.end():]
        text = lowered
    return Rephrased(question=text if notes else question, notes=notes, position=position)


def variance_percent() -> tuple[str, exp.Expression]:
    """The cost position's fourth figure: the net variance in percent of the plan (NULL with no plan)."""
    variance = exp.Sum(this=exp.column("cost_variance"))
    plan = exp.Nullif(this=exp.Sum(this=exp.column("plan_cost")), expression=exp.Literal.number(0))
    return "variance_pct_of_plan", exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=variance),
                                           expression=plan)
