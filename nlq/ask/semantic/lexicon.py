"""The words the parser knows, and the organization's stored values, as typed items.

Every phrase maps to one kind of item (an aggregate, a measure, a dimension, a value, a date, a
comparator, a stop word ...). `tag` covers the question with the longest phrases it knows;
whatever it cannot cover stays an `unknown` item, and the grammar declines if one is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from nlq.ask.semantic.dates import Span, match_date
from nlq.ask.semantic.sizes import Size, match_size, value_size
from nlq.ask.semantic.tokens import Token, root, stem, tokenize


@dataclass
class Item:
    """A tagged phrase: tokens [start, end) of the question, its kind and value."""

    kind: str
    value: object
    start: int
    end: int
    surface: str
    plural: bool = False
    used: bool = False
    note: str | None = None  # how a value was matched, when not exactly ("close spelling")
    span: Span | None = None
    token: Token | None = None


STOP = """a an the of is are was were be been being do does did have has had there their its it they them
we our us i me you your show list give tell get find display please can could would will shall all any every
that those these with for at so just only also both currently still yet right now what which whose where
when how here about to on whole entire overall altogether in total including included incl ones
whats what's that's there's let see know want need like look up presently as some being using
we're we've they're it's i'm let's everything anything something stuff pls thanks"""
# `to`, `on`, `in`, `as` are stop words unless the grammar reads them as part of a date or a change.

PHRASES: dict[str, tuple[str, object]] = {}

# Generic nouns for equipment: a record word, never one word of a longer stored value ('earthmoving
# plant' is earthmoving equipment, not the class 'Batch Plant 120m3/h').
GENERIC_NOUNS = frozenset("""plant plants kit kits gear equipment machinery item items stuff asset assets tool tools
hardware unit units machine machines thing things piece pieces fleet""".split())
# Plural event nouns: counted or bucketed, they are the events that happened (the actual dates).
EVENT_NOUNS = frozenset({"arrival", "mobilisation", "mobilization", "mob", "demob", "demobilisation",
                         "demobilization", "departure", "off hire", "off-hire", "arrival on site", "arrival at site",
                         "arrival to site", "departure from site"})


def _add(kind: str, value: object, *phrases: str) -> None:
    for phrase in phrases:
        PHRASES[" ".join(stem(t.text) for t in tokenize(phrase))] = (kind, value)


for _w in STOP.split():
    _add("stop", None, _w)
_add("stop", None, "due to", "slated to", "supposed to", "meant to", "got", "gotten", "paid", "paying",
     "that we paid", "we paid", "we paid out", "we have paid out", "we've paid out", "we paid out in", "we're paying", "we are paying")
_add("stop", None, "in total", "in all", "do we have", "we have", "are there", "is there", "right now", "as of now",
     "at the moment", "how about", "of them", "on record", "we've got", "have we got", "in days",
     "at some point", "at any point", "at any time", "at some stage", "the whole project", "whole project",
     "entire project", "across the whole project", "across the project", "project wide", "across the board",
     "flagged as", "marked as", "flagged", "marked", "listed as", "classed as", "do we use", "we use",
     "are we using", "we're using", "we are using", "carried by", "borne by", "covered by", "account for",
     "accounts for", "make up", "makes up", "take up", "takes up", "does each", "each take", "take", "takes")
_add("agg", "count", "how many", "count", "number of", "no of", "count of", "tally", "counts", "number", "qty",
     "qty of", "quantity of", "nr of")
# who pays is said by its value ('charged to BEO', 'paid out of project'): the verb adds nothing
_add("stop", None, "charged to", "charged to the", "paid by", "paid for by", "paid out of", "billed to", "paid from",
     "sitting")
_add("agg", "sum", "total", "sum", "sum of", "totals", "totalling", "totaling", "combined", "in sum", "aggregate", "add up to", "adds up to",
     "add up", "adds up", "amount to", "amounts to", "come to", "comes to")
_add("agg", "sum_default", "how much")
# 'how much plant / kit / gear': a quantity of equipment, counted (the noun stays the record word)
for _noun in ("plant", "kit", "gear", "equipment", "machinery", "hardware"):
    _add("agg", "count", f"how much {_noun}")
_add("agg", "avg", "average", "avg", "mean", "on average", "averages", "averaging", "averaged")
_add("agg", "median", "median", "typical", "typically", "usual", "usually", "normal", "middle")
_add("agg", "distinct", "distinct", "different", "unique", "separate")
_add("super", ("min", None), "minimum", "min", "smallest", "lowest", "least")
_add("super", ("max", None), "maximum", "max", "largest", "biggest", "highest", "most", "greatest")
_add("super", ("max", None), "heaviest", "hungriest")  # 'the heaviest hire bill'
_add("measure", "actual_cost", "burnt through", "burned through", "gone through", "got through")
_add("measure", "forecast_cost", "carrying on the forecast", "carrying in the forecast", "carry on the forecast",
     "carries on the forecast", "sitting on the forecast")
_add("super", ("max", None), "worst")  # 'the 5 worst slips', 'worst overrun': the biggest of a figure that hurts
_add("unknown", None, "worse")  # a comparative, read by the comparisons; never a misspelt 'worst'
_add("super", ("max", "count"), "busiest", "the busiest", "most crowded")
_add("super", ("min", "count"), "quietest", "the quietest", "least busy", "the least busy")
_add("super", ("min", "cost"), "cheapest", "least expensive", "least costly", "lowest cost", "lowest priced")
_add("super", ("max", "cost"), "most expensive", "dearest", "priciest", "most costly", "highest cost",
     "costliest", "highest priced")
_add("super", ("max", "duration"), "longest")
_add("super", ("min", "duration"), "shortest")
_add("super", ("min", "date"), "earliest", "soonest", "first to")
_add("super", ("max", "date"), "latest", "last to", "most recent", "newest")
_add("super", ("min", "count"), "fewest")
_add("top", "desc", "top")
_add("top", "asc", "bottom")
_add("share", None, "chunk of", "portion of", "slice of")
_add("share", None, "percentage", "percent", "share", "proportion", "fraction", "%", "pct", "ratio", "in percent",
     "in %", "as a percentage", "as percentages", "as a percent", "in percentages", "percentages", "split of",
     "breakdown of", "mix of")
_add("measure", "cost", "cost", "costs", "costing", "spend", "spending", "value", "money",
     "worth", "amount")
# the conventions: "budget", "baseline", "planned cost" are the plan cost, never the forecast
_add("measure", "plan_cost", "plan cost", "planned cost", "baseline cost", "budgeted cost", "original cost", "budget",
     "budgets", "budget cost", "baselines", "planned costs", "plan costs", "planned spend")
# what has been spent is the actual cost ('how much have we spent', 'rentals that have spent more than their budget')
_add("measure", "actual_cost", "actual cost", "actual spend", "actuals", "spent so far", "spent", "been spent")
_add("measure", "forecast_cost", "forecast to cost", "forecasted to cost", "expected to cost", "projected to cost",
     "going to cost", "set to cost", "forecast to come in at")
# what is still to be spent: the forecast less what has actually been spent (not 'left' the site)
_add("measure", "remaining_cost", "left to spend", "still to spend", "yet to spend", "remaining cost", "remaining spend",
     "cost to go", "spend to go", "cost to complete", "left to pay", "still to pay", "remaining to spend",
     "still to be spent", "yet to be spent", "cost still to come")
_add("measure", "cost_variance", "net overrun", "net variance", "net overspend", "net cost variance")
_add("measure", "cost_variance", "variance", "cost variance", "overrun", "overruns", "cost overrun",
     "variance to plan", "difference to plan", "forecast minus plan", "forecast less plan", "forecast over plan")
_add("measure", "monthly_rate", "rate", "rates", "monthly rate", "rental rate", "monthly rental rate", "hire rate",
     "monthly cost", "rent", "monthly rent", "monthly hire", "charging", "charging us", "charge", "charges", "hire charge", "monthly charge")
_add("measure", "purchase_price", "price", "purchase price", "purchase cost", "buying price", "purchase value",
     "buy price", "priced", "priced at", "bought at", "bought for")
_add("measure", "duration", "duration", "length", "how long", "long", "lasting", "last for", "lasts",
     "period", "days on hire", "hire length", "hire period", "hire duration", "length of hire", "hire lengths",
     "hire periods")
# time on site / on hire is the actual period (actual end - actual start): records that have left
_add("measure", "actual_duration", "time on site", "days on site", "time on hire", "time spent on site",
     "time spent on hire", "length of stay", "time at site", "days at site", "actual duration", "actual length",
     "actual time on hire", "actual time on site", "actual days on hire", "actual stay", "actual stays", "stay on site",
     "stayed on site", "stays on site", "stayed", "stay in days", "actual stay in days")
_add("measure", "slip", "how late", "how far behind", "slip", "slipped", "slippage", "delay", "delayed", "late by", "end slip", "end delay",
     "schedule slip", "slipping", "slips")
_add("measure", "start_slip", "start slip", "start delay", "start slipped")
_add("measure", "days_overdue", "days overdue", "days past due", "days past its end", "days past their end",
     "days past end", "days past the end date", "days over due", "how overdue", "how long overdue", "how far overdue",
     "overdue by", "days late past their end", "days beyond their end")
_add("measure", "arrival_delay", "arrival delay", "arrival slip", "arrival delays")
_add("flag", "late_arrival", "arrived late", "late arrival", "late arrivals", "late to arrive", "arrived after plan",
     "arrived later than planned")
_add("qual", "plan", "plan", "planned", "original", "originally", "baseline", "planning", "budgeted",
     "originally scheduled", "first scheduled")
# 'scheduled' alone is the schedule as it stands: the forecast (the plan is what was first scheduled)
_add("qual", "forecast", "forecast", "forecasted", "current", "expected", "projected", "now expected", "scheduled",
     "currently scheduled", "now scheduled")
_add("qual", "actual", "actual", "actually", "real")
_add("part", ("start", None), "start", "starts", "starting", "begin", "begins", "beginning", "arrive", "arrives",
     "arriving", "arrival", "mobilise", "mobilize", "mobilising", "mobilizing", "mobilisation",
     "mobilization", "mob", "start date", "coming", "come", "comes", "due to arrive", "due on site", "commence",
     "arrival on site", "arrivals on site", "arrival at site", "arrivals at site", "arrival to site", "arrivals to site",
     "commencing", "onboarding", "kick off")
_add("part", ("start", "actual"), "arrived", "delivered", "mobilised", "mobilized", "came", "arrived on site",
     "arrived at site", "delivered to site", "arrived on the site")
# Plain past tense: with a date it is the forecast date (the convention for dates with no qualifier);
# with no date it says the event happened.
_add("part", ("start", "past"), "started", "began", "kicked off")
_add("part", ("end", "past"), "ended", "finished up", "came off hire", "came off-hire", "went off hire",
     "went off-hire", "came back", "went back")
_add("part", ("end", None), "end", "ends", "ending", "finish", "finishes", "finishing", "due back", "due",
     "return", "returns", "returning", "leave", "leaves", "leaving", "off hire", "off hiring", "demobilise",
     "demobilize", "demob", "demobilisation", "demobilization", "departure", "off-hire", "demobilising", "release", "releases", "expire", "expires", "expiring",
     "end date", "finish date", "completion", "wrap up", "go off hire", "due off hire", "come off hire",
     "comes off hire", "coming off hire", "goes off hire", "going off hire")
_add("part", ("end", None), "leave site", "leave the site", "leaves site", "leaves the site", "leaving site",
     "leaving the site")
_add("part", ("end", "actual"), "left", "left site", "left the site", "off hired", "demobilised", "demobilized", "released",
     "demobbed", "demobed", "off-hired", "offhired")
_add("dim", "category", "category", "categories", "type", "types", "equipment type", "kind", "kinds")
_add("dim", "class", "class", "classes", "equipment class", "subcategory", "sub category")
_add("dim", "area", "area", "areas", "silo", "silos", "zone", "zones", "location", "locations", "site area",
     "work area")
_add("dim", "source", "source", "sources", "rental or purchase", "rent or buy", "sourcing", "rent/buy", "hire/buy",
     "rental/purchase", "rented/bought", "hired/bought", "rent vs buy", "hire or buy", "rented or bought")
_add("dim", "dor", "dor", "payer", "payers", "who pays", "paid by whom", "funding", "cost bearer")
_add("dim", "manufacturer", "manufacturer", "manufacturers", "make", "makes", "maker", "makers", "brand",
     "brands", "vendor", "vendors", "oem", "supplier", "suppliers")
_add("dim", "model", "model", "models")
# a type of kit is its class (the category is the kind of equipment: 'equipment type')
_add("dim", "class", "kit type", "kit types", "type of kit", "types of kit", "kind of kit", "kinds of kit",
     "type of gear", "types of gear", "kit class", "kit classes")
_add("rank", None, "rank", "ranks", "ranking", "rankings", "ranked", "rank number", "rank numbers", "position")
_add("running", None, "running total", "running totals", "cumulative", "cumulative total", "running sum",
     "cumulatively", "running count")
_add("change", "abs", "change", "changes", "growth", "delta", "difference from", "increase or decrease")
_add("change", "pct", "growth in %", "change in %", "% change", "percent change", "percentage change",
     "% growth", "growth rate", "percentage growth")
for _unit in ("month", "quarter", "year", "week"):
    _add("unit", _unit, f"{_unit} over {_unit}", f"{_unit} on {_unit}")
    _add("prev", _unit, f"vs the previous {_unit}", f"versus the previous {_unit}", f"compared to the previous {_unit}",
         f"from the previous {_unit}", f"over the previous {_unit}", f"on the previous {_unit}",
         f"vs the prior {_unit}", f"vs previous {_unit}", f"from the prior {_unit}", f"than the previous {_unit}",
         f"on the {_unit} before", f"from the {_unit} before", f"against the {_unit} before",
         f"against the previous {_unit}", f"vs the {_unit} before", f"versus the {_unit} before",
         f"compared with the {_unit} before", f"compared with the previous {_unit}")
    _add("unit", _unit, f"{_unit}-on-{_unit}", f"{_unit}-over-{_unit}")
_add("unit", "month", "mom")
_add("unit", "quarter", "qoq")
_add("unit", "year", "yoy")
_add("combo", None, "combination", "combinations", "combo", "pair", "pairs")
_add("dim", "manufacturer", "who makes", "who made", "who supplies", "who supplied", "who builds", "who manufactures")
_add("unit", "day", "day", "days", "calendar days")
_add("unit", "week", "week", "weeks", "wk", "wks")
_add("unit", "month", "month", "months", "mo", "mos", "monthly")
_add("unit", "quarter", "quarter", "quarters", "quarterly", "qtr")
_add("unit", "year", "year", "years", "yearly", "annual", "annually", "yr", "yrs")
_add("flag", "on_site", "actualized", "actualised", "mobilized on site", "mobilised on site")
# 'on site' is now: actualized and not yet left (the question set's convention)
_add("flag", "on_site_now", "on site", "onsite", "at site", "in use")
_add("flag", "on_site_now", "on site now", "currently on site", "still on site", "on site right now",
     "on site today", "now on site", "on site at the moment", "presently on site", "on site currently",
     "still there")
_add("flag", "cancelled", "cancelled", "canceled", "discontinued", "cancel", "cancellation", "cancellations",
     "discontinue", "dropped")
_add("flag", "active", "active", "live")
# 'on hire' on a day or during a period: the forecast period overlaps it; with no date it is not read
_add("flag", "on_hire", "on hire", "on rent")
_add("flag", "draft", "working draft", "working drafts", "working draft from me", "working drafts from me")
_add("flag", "draft", "draft", "drafts", "my changes", "edited", "i changed", "changed by me", "my edits",
     "unsaved", "i edited", "my draft", "my drafts", "pending changes", "draft changes", "draft change",
     "draft changes from me", "draft edits", "changes from me", "edits from me", "drafts from me")
_add("flag", "transferable", "funds transferable", "transferable", "fund transferable", "can donate funds",
     "funds transferrable", "transferrable")
_add("flag", "finished", "finished", "completed", "returned", "done", "over and done", "already ended",
     "already finished", "have ended", "has ended", "off site")
_add("flag", "overdue", "overdue", "late", "past due", "past their end", "past end")
# running late / behind schedule: the forecast end has slipped past the plan (not: overdue on site)
_add("flag", "slipped", "running late", "running behind", "behind schedule", "behind programme", "behind program",
     "running behind schedule")
_add("flag", "tagged", "tag", "tagged", "tags", "equipment tag", "asset tag", "tag number", "tag assigned",
     "equipment tag assigned", "asset tag assigned", "tag number assigned", "assigned a tag")
_add("flag", "untagged", "untagged", "no tag", "unassigned")
_add("flag", "over_budget", "over budget", "above budget", "overspent", "overrunning", "over their budget")
_add("flag", "under_budget", "under budget", "below budget", "underspent", "under their budget")
_add("flag", "not_on_site", "not on site", "not yet on site", "not actualized", "not arrived", "yet to arrive",
     "not yet arrived", "awaiting arrival", "pending arrival", "not started")
# kit still to come will come: a cancelled line will not
_add("flag", "to_come", "still to come", "yet to come", "still coming", "still to be delivered")
_add("value", ("source", "Rental"), "rental", "rentals", "rented", "hired", "hire", "hires",
     "leased", "renting")
_add("value", ("source", "Purchase"), "purchase", "purchases", "bought", "owned", "purchased", "buy", "buys",
     "buying", "purchasing")
_add("value", ("dor", "BEO"), "overhead", "overheads", "beo", "paid by overhead", "overhead paid",
     "overhead funded", "paid out of overhead", "paid from overhead", "out of overhead", "charged to overhead")
_add("value", ("dor", "PROJECT"), "project paid", "paid by the project", "paid by project", "project funded",
     "project")
_add("neg", None, "not", "no", "non", "neither", "without", "excluding", "exclude", "excludes", "except", "except for",
     "other than", "apart from", "isn't", "aren't", "don't", "doesn't", "haven't", "hasn't", "wasn't",
     "weren't", "never", "besides", "ignoring", "ignore", "disregarding", "disregard", "leave out", "leaving out", "but not", "minus", "lacking", "missing",
     "excluded", "nor", "outside", "everything but", "anything but", "all but", "everything except",
     "anything except", "all except", "leave out", "leaving aside", "not counting", "not including",
     "discounting", "disregarding", "setting aside", "left out", "not included", "excl", "omitting", "omit",
     "skip", "skipping", "barring")
_add("cmp", "gt", "more than", "over", "above", "greater than", "exceeds", "exceed", "exceeding", "exceeded",
     "higher than", "bigger than", "larger than", "beyond", "in excess of", "beats", "beat", "beating",
     "outstrips", "outstrip", "upwards of", "north of", "more",
     "gone past", "gone over", "gone above", "went over", "gone beyond", ">", "topped", "topping")
_add("cmp", "gt_cost", "more expensive than", "costlier than", "dearer than", "pricier than")
_add("cmp", "lt_cost", "cheaper than", "less expensive than")
_add("cmp", "gt_duration", "longer than", "lasting more than", "lasting over", "lasting longer than")
_add("cmp", "lt_duration", "shorter than", "lasting less than", "lasting under")
_add("cmp", "gt_date", "later than", "after", "past", "beyond the")
_add("cmp", "lt_date", "earlier than", "before", "sooner than", "ahead of", "prior to")
_add("cmp", "gte", "at least", "no less than", "not less than", "or more", "minimum of", "and up", "and above",
     "or above", "or longer", "or higher", "or over", "or greater", "or bigger", "or later", ">=")
_add("cmp", "lt", "less than", "under", "below", "fewer than", "lower than", "smaller than", "less", "<")
_add("cmp", "lte", "at most", "no more than", "not more than", "up to", "or less", "or fewer", "maximum of",
     "or under", "or below", "not over", "no later than", "or shorter", "or lower", "or smaller", "or earlier",
     "or cheaper", "<=")
_add("cmp", "eq", "exactly", "equal to", "equals", "equal", "precisely", "=", "bang on", "spot on", "exactly on",
     "the same as", "same as", "identical to")
_add("cmp", "between", "between")
_add("group", None, "bucketed by", "bucketed per", "banded by")
_add("group", None, "by", "per", "for each", "each", "for every", "grouped by", "group by", "broken down by",
     "breakdown by", "split by", "by each", "in each", "across", "broken out by", "by their", "within each",
     "for all", "split into", "broken into", "split between", "in every", "across every", "at every",
     "within every", "across each", "at each")
_add("vs", None, "vs", "versus", "compared to", "compared with", "against", "vs.", "v")
# the values listed each as a column of their own, one row per group: 'rental and purchase cost side by side'
_add("pivot", None, "side by side", "next to each other", "alongside each other", "in separate columns",
     "as separate columns", "in columns", "as columns", "in their own columns", "each in its own column")
_add("and", None, "and", "plus", "&", "as well as", ",", ";", "+", "but")
_add("or", None, "or", "either")
_add("prep", "in", "in", "during", "within", "throughout", "inside", "over the course of")
_add("prep", "on", "on", "as at", "as of", "at")
_add("prep", "since", "since", "from")
_add("prep", "until", "until", "till", "through", "to", "up until", "thru")
_add("sofar", None, "so far", "to date", "until now", "up to now", "till now", "until today", "up to today",
     "thus far", "yet", "already")
_add("record", None, "item", "items", "record", "records", "pfa", "pfas", "pfa record", "pfa records",
     "equipment", "piece", "pieces", "pieces of equipment", "thing", "things", "entry", "entries", "asset",
     "assets", "unit", "units", "line", "lines", "row", "rows", "machine", "machines", "gear", "kit", "fleet",
     "equipment items", "eqpt", "equip", "equipments", *sorted(GENERIC_NOUNS))
_add("verb", None, "is", "are", "was", "were", "have", "has", "had", "that are", "which are", "that is",
     "which is", "that have", "that were", "being", "are still", "still are", "that")
_add("verb", None, "carry", "carries", "hold", "holds", "host", "hosts", "house", "houses")  # 'areas that carry the most kit'

_add("edit", None, "set", "change", "switch", "move", "convert", "update", "put", "shift", "postpone",
     "push", "push back", "bring forward", "pull in", "advance", "extend", "lengthen", "prolong", "shorten",
     "cut", "reduce", "lower", "decrease", "raise", "increase", "scale", "mark", "assign", "reassign",
     "flag", "turn", "pull forward", "slide", "bump", "drop", "reschedule")


# Site words, filler and phrasings read since the ninth set (each a phrasing of something read above)
_add("neg", None, "havent", "hasnt", "isnt", "arent", "dont", "doesnt", "wasnt", "werent", "not made by",
     "not built by", "not supplied by")
_add("stop", None, "made by", "built by", "manufactured by", "supplied by", "they've", "they've got", "at the mo",
     "at the minute")
_add("measure", "monthly_rate", "hire bill", "monthly hire bill", "monthly bill", "rental bill", "monthly rental bill")
_add("stop", None, "physically", "i e", "ie", "do we run", "we run", "are we running", "we're running", "we are running")
_add("stop", None, "rn")  # 'right now', as texted
_add("stop", None, "single", "one single", "very")  # 'the single most expensive item': the top one
_add("verb", None, "cover", "covers", "covering", "span", "spans", "spanning", "appear in", "appears in",
     "show up in", "shows up in", "found in", "spread over", "spread across")  # 'makes that cover 3 categories'
_add("verb", None, "running", "runs", "run")  # 'the forecast is running 3% over budget'; 'running late' is its own
# the whole organization, said of an average: 'above the average across everything', 'the site-wide average'
# (value "whole": after 'than', the same figure over every record: 'a higher average rate than the fleet as a whole')
_add("stop", "whole", "the fleet as a whole", "the whole fleet", "fleet wide", "fleet-wide", "across the fleet",
     "across the whole site", "across the site", "the whole job", "the job as a whole", "across the whole job",
     "across the job", "job wide", "job-wide", "the whole project", "the project as a whole", "across the project",
     "across the whole project", "across the board", "overall", "across all areas")
_add("stop", "whole", "across everything", "across all records", "across all items", "across all the records",
     "across all equipment", "site wide", "site-wide", "sitewide", "as a whole", "the site as a whole",
     "the whole site", "company wide", "project-wide", "for everything", "of everything", "of all records",
     "of all items", "over all records", "over everything")
_add("unit", "month", "mth", "mths")
_add("stop", None, "sitting around", "lying around", "hanging around", "sat around", "knocking about")
_add("neg", None, "nothing that's", "nothing that has", "nothing that is", "nothing that", "nothing which",
     "none that", "none that's", "none which")
_add("stop", None, "supply", "supplies", "supplied", "down", "again", "counting only", "only counting",
     "count only", "only count")
_add("flag", "overdue", *[f"past {w} {d}" for w in ("its", "their", "the") for d in (
    "off hire date", "off hire", "end date", "finish date", "forecast end", "return date", "due date")])
_add("neg", None, "haven't got a single", "hasn't got a single", "have not got a single", "has not got a single",
     "haven't got any", "hasn't got any", "haven't a single", "haven't any")
_add("neg", None, "nothing", "none", "not a single", "don't have a single", "doesn't have a single",
     "do not have a single", "does not have a single", "not one", "not any")
_add("measure", "monthly_rate", "burn", "burn rate", "monthly burn", "run rate", "monthly run rate", "hire burn",
     "monthly hire burn", "rental burn", "monthly rental burn")
_add("part", ("start", None), "kicking off", "kicks off", "kick off", "kicks in", "kick in", "kicking in")
_add("part", ("start", "actual"), "turned up", "turned up on site", "landed", "landed on site", "showed up",
     "got to site", "get to site", "gets to site", "got on site", "got to the site", "made it to site")
_add("agg", "sum", "summed", "summed up", "added up", "sum up", "adding up to", "adding up", "that add up to", "that adds up to")
_add("rank", None, "rank no", "rank nos")
_add("record", None, "bits", "bits of kit", "bit of kit", "pieces of kit", "piece of kit")
_add("dim", "dor", "who is paying", "who's paying", "who pays for it", "who is paying for it")
_add("verb", None, "comes from", "come from", "coming from")
_add("verb", None, "hold", "holds", "holding", "having")  # 'areas holding more cranes than generators'
_add("qual", "forecast", "forecast to", "forecasted to", "projected to")
_add("measure", "duration", "hire days", "days of hire", "rental days", "days hired")
_add("group", None, "split")
# Site shorthand read since the twelfth set (each a phrasing of something read above)
_add("part", ("start", "actual"), "mob'd", "mobbed", "mobd", "mobed")
_add("part", ("end", "actual"), "demob'd", "demobd")
_add("agg", "sum", "tot", "tot.", "ttl")
_add("stop", None, "had already gone by", "had gone by", "already gone by", "gone by", "had already passed",
     "had passed", "has passed", "have passed")  # 'after their planned end date had gone by': 'after' says it
_add("verb", None, "gone", "went", "gone to", "went to", "has gone to", "have gone to")
_add("stop", None, "going to be", "is going to be", "are going to be", "gonna be")  # the future, which dates say
_add("stop", None, "on the job", "on this job", "break down", "broken down",
     "break it down", "breakdown of", "break out")
_add("stop", "whole", "across the job", "on the whole job")
_add("verb", None, "sits with", "sits in", "sit with", "sitting with", "sitting in", "sits on")
_add("qual", "plan", "planned to run", "planned to last", "planned to be on hire", "planned to be on site")
_add("qual", "forecast", "forecast to run", "forecast to last", "forecast to be on hire", "forecast to stay",
     "forecast to remain", "forecast to be there", "forecast to stay on site", "forecast to be on site")
_add("qual", "plan", "planned to stay", "planned to remain", "planned to stay on site")
_add("agg", "count", "counted", "tallied")
_add("howfar", None, "how far")  # 'how far above or below its class average'
_add("stop", None, "each one", "each one's", "every one", "every one's", "each of them")
# a length said as how long something is needed, kept or on hire for: the period (forecast unless planned)
_add("measure", "duration", "on hire for", "needed for", "be needed for", "kept for", "be kept for", "be on hire for",
     "required for", "be required for", "booked for")
_add("qual", "forecast", "forecast to be")
_add("qual", "plan", "planned to be", "per the plan", "per plan", "according to the plan", "in the plan")
_add("flag", "not_on_site", "still to arrive", "still to turn up", "yet to turn up", "yet to show up",
     "are still to arrive", "is still to arrive", "are yet to arrive", "is yet to arrive")
_add("part", ("start", "actual"), "shown up", "show up", "shows up", "turn up", "turns up", "shown up on site",
     "show up on site", "shows up on site", "turn up on site", "turns up on site", "showed up on site")
_add("verb", None, "pays", "pay", "goes on", "go on", "goes to", "stay", "stays", "stayed", "r", "hav")
_add("stop", None, "on the books", "on the register", "in the system", "on our books", "on the list", "together",
     "outright", "w/", "too", "break", "as well", "also")
_add("group", None, "evry", "split out by", "broken out by")
_add("measure", "monthly_rate", "mthly rate", "mthly rates", "monthy rate", "monthy rates", "mnthly rate")
# said of slips, overruns, delays and costs: more of them is worse
_add("cmp", "gt", "worse than")
_add("cmp", "lt", "better than")
for _unit in ("month", "quarter", "year", "week"):
    _add("unit", _unit, f"{_unit} by {_unit}")


# Phrasal verbs made of stop words that change what is asked ('how much budget could they give up'):
# words of their own, so a question using them is declined rather than read without them.
_add("unknown", None, "give up", "gives up", "given up", "gave up", "giving up", "free up", "frees up", "freed up")
# Words that only say how the question is put: 'looking at what's on site', 'which one', 'lean on'
_add("stop", None, "looking at", "look at", "which one", "which ones", "the one", "headache", "headaches")
_add("verb", None, "falls", "fall", "falling", "fell")  # 'whose planned end falls in H2 2028'
_add("verb", None, "paid out", "pay out", "paying out", "paid out in", "have paid out", "we've paid out")
_add("verb", None, "makes up", "make up", "made up", "lean on", "leans on", "rely on", "relies on", "depend on",
     "depends on", "swallow", "swallows", "swallowing", "eats up", "eat up", "eating up", "soaks up", "soak up",
     "ties up", "tie up")
# Question words the grammar treats as stop words unless it finds a use for them.
SOFT = {"stop", "verb", "and", "or", "prep", "record", "sofar"}
# 'pay for' is spend; 'run the longest' is the longest duration
_add("measure", "cost", "pay for", "paying for", "paid for", "pay out for")
_add("super", ("max", "duration"), "run the longest", "runs the longest", "run longest", "running longest")
MAX_PHRASE = 6
_GENERIC_ROOTS = frozenset(root(w) for w in GENERIC_NOUNS)


# Site words for equipment, and the word stored values use for it: a trade name binds whatever the
# organization stores under that word, and nothing when it stores none.
TRADE_NAMES = {"genset": "generator", "gensets": "generators", "genny": "generator", "gennies": "generators",
               "gen set": "generator", "gen sets": "generators", "digger": "excavator", "diggers": "excavators",
               "bulldozer": "dozer", "bulldozers": "dozers", "loadall": "loader", "lighting tower": "light tower",
               "lighting towers": "light towers", "lorry": "truck", "lorries": "trucks", "scaff": "scaffolding",
               "scaffold": "scaffolding", "gen": "generator", "gens": "generators", "power gen": "generators",
               "power generation": "generators", "rt crane": "rough terrain crane", "rt cranes": "rough terrain cranes"}


@dataclass
class Vocabulary:
    """An organization's stored values, indexed by their word forms for matching in questions."""

    phrases: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    short: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # one word of a manufacturer
    words: list[str] = field(default_factory=list)  # every value word, for close spelling
    # one word of a longer value ('loader' of 'Wheel Loader 5m3'): the word forms that may name it on
    # their own, so a common word with the same root ('load', 'loading') does not bind the value
    partial: dict[tuple[str, ...], dict[tuple[str, str], set[str]]] = field(default_factory=dict)
    # a class's size ('500kVA' of 'Generator 500kVA') -> the class and the roots of its other words
    sizes: dict[Size, dict[tuple[str, str], set[str]]] = field(default_factory=dict)
    # (column, first word) -> the column's values that start with it, when there are several ('Silo 1' ...)
    headed: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, values: dict[str, list[str]]) -> Vocabulary:
        vocab = cls()
        for column in ("category", "class", "area", "manufacturer", "model"):
            for value in values.get(column, []):
                tokens = [root(t.text) for t in tokenize(value) if t.kind != "punct"]
                if not tokens:
                    continue
                forms = {tuple(tokens)}
                if column == "class" and (sized := value_size(value)):
                    vocab.sizes.setdefault(sized[0], {})[(column, value)] = sized[1]
                if column == "class":  # "Crawler Crane 250T" is also said "crawler crane", or "crawler"
                    head = tokens
                    for k, t in enumerate(tokens):
                        if any(c.isdigit() for c in t):
                            head = tokens[:k]
                            break
                    while len(head) > 1 and len(head[-1]) <= 2:
                        head = head[:-1]
                    coded = [t for t in tokens if t[0].isalpha() and any(c.isdigit() for c in t) and len(t) >= 2
                             and not value_size(t.upper())]
                    if len(coded) == 1:  # 'D8s' for Dozer D8
                        forms.update({(coded[0],), (root(coded[0] + "s"),)})
                    if len(head) >= 3:  # 'dump trucks' for Articulated Dump Truck 40T
                        forms.add(tuple(head[-2:]))
                    if head:
                        forms.add(tuple(head))
                        if len(head) == 1 or head[-1] not in _GENERIC_ROOTS:
                            forms.add((head[-1],))
                        if len(tokens) > 1 and head[-1] not in _GENERIC_ROOTS:
                            said = [stem(t.text.lower()) for t in tokenize(value) if t.kind != "punct"]
                            own = {w for w in said if root(w) == head[-1]}
                            vocab.partial.setdefault((head[-1],), {}).setdefault((column, value), set()).update(own)
                if column == "model" and not any(c.isalpha() for c in "".join(tokens)):
                    continue  # a model called "336" would read any number as a model
                if column == "model" and any(c.isdigit() for c in tokens[-1]):
                    # 'XQ500s' for the model XQ500, 'vantage 400s' for Vantage 400
                    forms.add((*tokens[:-1], root(tokens[-1] + "s")))
                    if len(tokens) == 2 and tokens[0].isalpha() and tokens[1].isdigit():
                        joined = tokens[0] + tokens[1]  # 'XAS750s', 'xas750' for XAS 750
                        forms.update({(joined,), (root(joined + "s"),)})
                for form in forms:
                    entries = vocab.phrases.setdefault(form, [])
                    if (column, value) not in entries:
                        entries.append((column, value))
                if column == "manufacturer":
                    for t in tokens:
                        if len(t) >= 3:
                            vocab.short.setdefault(t, []).append((column, value))
                elif column in ("area", "category") and len(tokens) > 1:  # 'the laydown' is Laydown Yard
                    for t in tokens:
                        if len(t) >= 4 and t.isalpha() and t not in _GENERIC_ROOTS:
                            vocab.short.setdefault(t, []).append((column, value))
        for column in ("area", "category", "class"):
            firsts: dict[str, list[tuple[str, str]]] = {}
            for value in values.get(column, []):
                tokens = [root(t.text) for t in tokenize(value) if t.kind != "punct"]
                if len(tokens) > 1:
                    firsts.setdefault(tokens[0], []).append((column, value))
            vocab.headed.update({(column, w): tuple(sorted(v)) for w, v in firsts.items() if len(v) > 1})
        for value in values.get("class", []):  # 'pickups' for Pickup Truck: a first word no other value has
            tokens = [root(t.text) for t in tokenize(value) if t.kind != "punct"]
            firsts = [v for v in values.get("class", []) if root(tokenize(v)[0].text) == tokens[0]]
            if len(tokens) > 1 and tokens[0].isalpha() and len(tokens[0]) >= 4 and len(firsts) == 1 \
                    and (tokens[0],) not in vocab.phrases and tokens[0] not in _GENERIC_ROOTS | {"system"} and tokens[0] not in PHRASES:
                vocab.phrases[(tokens[0],)] = [("class", value)]
                said = {stem(t.text.lower()) for t in tokenize(value)[:1]}
                vocab.partial.setdefault((tokens[0],), {}).setdefault(("class", value), set()).update(said)
        for said, stored in TRADE_NAMES.items():  # 'gensets' for the Generators the organization stores
            key, target = tuple(root(w) for w in said.split()), tuple(root(w) for w in stored.split())
            if target in vocab.phrases and key not in vocab.phrases:
                vocab.phrases[key] = list(vocab.phrases[target])
        vocab.words = sorted({form[0] for form in vocab.phrases if len(form) == 1 and len(form[0]) >= 5
                              and form[0].isalpha()})
        return vocab


def _lexicon(tokens: list[Token], i: int) -> tuple[int, tuple[str, object]] | None:
    for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
        key = " ".join(t.stem for t in tokens[i:i + n])
        if key in PHRASES:
            return n, PHRASES[key]
    return None


def _value(tokens: list[Token], i: int, vocab: Vocabulary) -> tuple[int, list[tuple[str, str]]] | None:
    for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
        key = tuple(root(t.text) for t in tokens[i:i + n])
        if key in vocab.phrases:
            entries = vocab.phrases[key]
            if n == 1 and key in vocab.partial:  # one word of a longer value: only its own word binds it
                word = stem(tokens[i].text)
                entries = [e for e in entries if e not in vocab.partial[key] or word in vocab.partial[key][e]]
                if not entries:
                    return None
            return n, entries
    return None


def _prefer(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """When one phrase names several values, the coarsest column wins ('generator': the category,
    not its two generator classes); values of that column are kept together."""
    for column in ("category", "area", "manufacturer", "class", "model"):
        chosen = [e for e in entries if e[0] == column]
        if chosen:
            return chosen
    return entries


def kept_tokens(question: str) -> list:
    """The tokens items are made of (punctuation other than ',' and ';' dropped): items index them."""
    return [t for t in tokenize(question) if t.kind != "punct" or t.text in ",;"]


def tag(question: str, vocab: Vocabulary, today: date) -> list[Item]:
    """Items covering the question, longest known phrase first; unknown words stay `unknown`."""
    tokens = kept_tokens(question)
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        surface = lambda n: question[tokens[i].start:tokens[i + n - 1].end]  # noqa: E731
        found_date = match_date(tokens, i, today)
        lex = _lexicon(tokens, i)
        val = _value(tokens, i, vocab)
        sized = match_size(tokens, i, vocab.sizes)
        if sized and (not val or sized[0] > val[0]):  # '250 tonne crawlers': the size names the class
            val = sized
        best = max(n for n in (found_date[0] if found_date else 0, lex[0] if lex else 0, val[0] if val else 0))
        if best == 0:
            item = _unknown(tokens, i, question, vocab)
            if item.note and "close spelling" in item.note and (longer := _corrected_phrase(tokens, i, question)):
                item = longer  # 'montly rates': the phrase 'monthly rates', not 'monthly' and then 'rates'
            items.append(item)
            i = item.end
            continue
        if found_date and found_date[0] == best:
            items.append(Item("date", None, i, i + best, surface(best), span=found_date[1]))
        elif val and val[0] == best and not (lex and lex[0] == best and lex[1][0] != "stop"):
            entries = _prefer(val[1])
            plural = tokens[i + best - 1].text != tokens[i + best - 1].stem
            items.append(Item("value", entries, i, i + best, surface(best), plural=plural))
        else:
            kind, value = lex[1]
            if kind == "value":
                value = [value]
            last = tokens[i + best - 1]
            items.append(Item(kind, value, i, i + best, surface(best), plural=last.text != last.stem))
        i += best
    for item in items:
        if item.kind == "unknown" and item.token is not None and item.token.kind == "num":
            item.kind, item.value = "num", item.token
    _values_named_by_their_head(items, vocab)
    _value_then_its_column(items)
    _qualifier_then_total(items)
    _qualified_hire(items)
    _date_of_an_event(items)
    _dimension_wise(items)
    _busy_now(items)
    _separately(items)
    _moving_averages(items)
    _how_long_planned(items)
    _burnt_through_alone(items)
    _worst_of_a_figure(items)
    _costing_in_hire(items)
    _share_said_last(items)
    _delay_against_plan(items)
    _rate_of_a_flag(items)
    _first_and_last(items)
    _days_asked(items)
    _postfix_comparisons(items)
    _rank_direction(items)
    _each_record(items)
    for n, item in enumerate(items[1:], 1):  # 'how many unique equipment tags': the tags, not the tagged records
        if item.kind == "flag" and item.value == "tagged" and item.plural and items[n - 1].kind == "agg" \
                and items[n - 1].value == "distinct":
            item.kind, item.value = "dim", "equipment_tag"
    _compared_values(items)
    _events_and_stays(items, today)
    _monthly_superlatives(items)
    _counts_of_a_dimension(items)
    _listed_costs(items)
    _date_words_before_unit(items)
    _planned_for_a_length(items)
    _average_per_record(items)
    _comparative_before_than(items)
    _verb_forms(items)
    _scope_words(items)
    _exclusions_said_after(items)
    _types_of_a_category(items)
    _burn_is_a_total(items)
    _measure_over_budget(items)
    _unit_by_unit(items)
    _every_value_listed(items)
    _a_unit_is_one(items)
    _actually_spent(items)
    _qualifier_at_an_amount(items)
    _where_and_who(items)
    previous = None
    for item in items:  # 'a total overrun (forecast minus plan)': the same measure said twice in a row
        if item.kind == "stop":
            continue
        adjective = item.surface.lower() in ("slipped", "delayed")  # 'slip of slipped purchases': a condition
        if previous is not None and item.kind == previous.kind == "measure" and item.value == previous.value \
                and not adjective:
            item.kind, item.value = "stop", None
            item.note = f"'{item.surface}' read as restating '{previous.surface}'"
        previous = item
    return items


COSTS = {"plan": "plan_cost", "forecast": "forecast_cost", "actual": "actual_cost"}
COST_WORDS = {"cost", "costs", "spend", "totals", "total", "figures", "numbers", "money", "amounts"}


def _listed_costs(items: list[Item]) -> None:
    """'plan, forecast and actual cost', 'plan vs actual total', 'budget vs actual': a list of plan /
    forecast / actual whose measure is said once (or not at all, after a cost) is that many costs."""
    i = 0
    while i < len(items):
        run, j = [i], i
        while j + 2 < len(items) and items[j + 1].kind in ("and", "vs") and items[j + 2].kind in ("qual", "measure"):
            j += 2
            run.append(j)
        members = [items[k] for k in run]
        costs = [x for x in members if x.kind == "measure" and x.value in COSTS.values()]
        quals = [x for x in members if x.kind == "qual" and x.value in COSTS]
        after = items[j + 1] if j + 1 < len(items) else None
        said = after is not None and after.surface.lower() in COST_WORDS
        led = i > 0 and items[i - 1].kind == "agg"  # 'average plan and actual cost': the grammar's own list
        if len(run) > 1 and quals and not led and len(costs) + len(quals) == len(run) and (costs or said):
            for x in quals:
                x.kind, x.value = "measure", COSTS[x.value]
                x.note = f"'{x.surface}' read as the {x.value.replace('_', ' ')}, listed with the other costs"
            for k in range(run[0] + 1, j, 2):
                items[k].kind, items[k].value = "and", None  # 'vs' between figures lists them
            if said and after.kind in ("agg", "unknown", "stop", "measure") and after.value in (None, "sum", "forecast_cost"):
                after.kind, after.value = "stop", None  # the measure they share, said once
                after.note = f"'{after.surface}' read as the costs listed before it"
        i = j + 1
    for k in range(1, len(items) - 1):  # 'total plan cost vs total forecast cost': two figures, listed
        nxt = items[k + 2] if items[k + 1].kind == "agg" and k + 2 < len(items) else items[k + 1]
        if items[k].kind == "vs" and items[k - 1].kind == "measure" and nxt.kind in ("measure", "qual"):
            items[k].kind = "and"


def _values_named_by_their_head(items: list[Item], vocab: Vocabulary) -> None:
    """'in the silos', 'outside the silos': a column's word that is also the first word of several of
    its stored values (Silo 1 ... Silo 5) names those values; as a grouping ('per silo', 'which
    silo has ...') the groups are those values only."""
    k = 0
    while k < len(items):
        item = items[k]
        words = item.surface.lower().split()
        members = vocab.headed.get((item.value, root(words[0]))) if item.kind == "dim" and len(words) == 1 else None
        if members:
            value = Item("value", list(members), item.start, item.end, item.surface, plural=True,
                         note=f"'{item.surface}' read as {item.value} {' / '.join(v for _, v in members)}")
            lead = next((x for x in reversed(items[:k]) if x.surface.lower() not in ("the", "all", "our")), None)
            named = lead is None or lead.kind in ("prep", "neg") or lead.surface.lower() in SET_LEADS
            if item.plural and named:
                items[k] = value
            else:
                items.insert(k + 1, value)  # grouped by the column, over those values
                k += 1
        k += 1


SET_LEADS = ("in", "at", "inside", "outside", "within", "across", "among", "on", "for", "of", "from")


def _types_of_a_category(items: list[Item]) -> None:
    """'by crane type', 'each type of generator': the types within a category are its classes."""
    for k, item in enumerate(items):
        if item.kind != "dim" or item.value != "category" or item.surface.lower() not in ("type", "types", "kind", "kinds"):
            continue
        before = items[k - 1] if k > 0 else None
        after = items[k + 2] if k + 2 < len(items) and items[k + 1].surface.lower() == "of" else None
        named = [x for x in (before, after) if x is not None and x.kind == "value" and x.value[0][0] == "category"]
        anywhere = [x for x in items if x.kind == "value" and x.value[0][0] == "category"]
        if not named and len(anywhere) == 1 and len(anywhere[0].value) == 1:
            named = anywhere  # 'welding kit by type': one category, so its types
        if named:
            item.value = "class"
            item.note = f"'{item.surface}' of {named[0].value[0][1]} read as class"


def _burn_is_a_total(items: list[Item]) -> None:
    """'monthly burn', 'run rate': what the records cost each month together, the total of their
    monthly rates (not the average), unless an aggregate is said."""
    for k, item in enumerate(items):
        burn = item.kind == "measure" and item.value == "monthly_rate" and any(
            w in item.surface.lower() for w in ("burn", "run rate", "bill"))
        after = items[k + 1:k + 3]  # 'run rate per month': the rate is monthly already
        if burn and len(after) == 2 and after[0].kind == "group" and after[1].kind == "unit" and after[1].value == "month":
            for x in after:
                x.kind, x.value = "stop", None
        if burn and not any(x.kind == "agg" for x in items):
            items.insert(k, Item("agg", "sum", item.start, item.end, item.surface, note=f"'{item.surface}' read as the total "
                                 "of the monthly rates"))
            now = next((x for x in items if x.kind == "stop" and x.surface.lower() in NOW_WORDS), None)
            if now is not None and not any(x.kind == "flag" for x in items):  # 'burn right now': what is on site
                now.kind, now.value = "flag", "on_site_now"
                now.note = f"'{now.surface}' with '{item.surface}' read as on site now"
            return


def _measure_over_budget(items: list[Item]) -> None:
    """'where actual spend is already over budget': that measure above the plan cost, not the
    forecast (what 'over budget' alone means). After an amount ('more than 20% over budget', 'at
    least 50k over budget') it is the plan cost the amount is relative to."""
    for k, item in enumerate(items):
        if item.kind != "flag" or item.value not in ("over_budget", "under_budget"):
            continue
        j = k - 1
        while j >= 0 and items[j].kind in ("stop", "verb", "sofar"):
            j -= 1
        amount = j >= 1 and items[j].kind == "num" and items[j - 1].kind == "cmp"
        if amount or (j >= 0 and items[j].kind == "measure" and items[j].value in ("actual_cost", "forecast_cost", "cost")):
            over = item.value == "over_budget"
            item.kind, item.value = "cmp", "gt" if over else "lt"
            items.insert(k + 1, Item("measure", "plan_cost", item.start, item.end, item.surface,
                                     note=f"'{item.surface}' after '{items[j].surface}' read as "
                                          f"{'above' if over else 'below'} the plan cost"))
            return


FIXED_VALUES = {"source": {"Rental", "Purchase"}, "dor": {"BEO", "PROJECT"}}


def _every_value_listed(items: list[Item]) -> None:
    """'split rental / purchase', 'by rent vs buy', 'by source (rent vs buy)': every value of a
    two-valued column listed after 'by' / 'split' is one row per value; after the column's own word
    it restates it. 'actuals' alone is the actual cost."""
    for k, item in enumerate(items):
        if item.kind == "qual" and item.value == "actual" and item.surface.lower() == "actuals":
            item.kind, item.value = "measure", "actual_cost"
        near = [x for x in (items[k - 2] if k > 1 else None, items[k + 2] if k + 2 < len(items) else None)
                if x is not None and x.kind == "value" and x.value[0] == ("source", "Purchase")]
        if item.kind == "measure" and item.surface.lower() in ("rent", "hire") and near:
            item.kind, item.value = "value", [("source", "Rental")]  # 'rent vs buy': the verb, beside buying
    k = 0
    while k < len(items):
        run, j = [], k
        while j < len(items) and (items[j].kind == "value" and items[j].value[0][0] in FIXED_VALUES
                                  or (run and items[j].kind in ("and", "or", "vs"))):
            run.append(j)
            j += 1
        while run and items[run[-1]].kind != "value":
            run.pop()
        values = [items[r] for r in run if items[r].kind == "value"]
        column = values[0].value[0][0] if values else None
        said = {v for x in values for _, v in x.value}
        lead = next((x for x in reversed(items[:k]) if x.kind != "stop"), None)
        if column and all(x.value[0][0] == column for x in values) and said == FIXED_VALUES[column] and lead is not None \
                and (lead.kind == "group" or (lead.kind == "dim" and lead.value == column)):
            first = items[run[0]]
            for r in run:
                items[r].kind, items[r].value = "stop", None
            if lead.kind == "group":
                first.kind, first.value = "dim", column
                first.note = f"'{' / '.join(x.surface for x in values)}' read as one row per {column}"
            k = run[-1]
        k += 1


NOW_WORDS = ("right now", "rn", "now", "currently", "at the moment", "presently", "as of now", "at the minute",
             "at present")


def _where_and_who(items: list[Item]) -> None:
    """Vague openings with one reading: 'where's most of our gear sitting', 'which silo is the busiest
    right now' (the area with the most on site now), 'who do we spend the most with' (the maker).
    'where' is the area only for kit, counted: where money goes is left unread."""
    words = [x for x in items if x.kind != "stop" or x.surface.lower().split("'")[0] in ("where", "who")]
    if not words:
        return
    first = words[0]
    said = first.surface.lower().split("'")[0]
    ranked = any(x.kind in ("super", "top") for x in items)
    money = any(x.kind in ("measure", "qual") or (x.kind == "super" and x.value[1] == "cost") for x in items)
    if said == "where" and ranked and not money:
        first.kind, first.value = "dim", "area"
        first.note = f"'{first.surface}' read as one row per area"
    elif said == "where" and ranked:
        first.kind, first.value = "unknown", None  # where money goes: area or category, not said
    elif said == "who" and money and ranked and first.kind in ("stop", "unknown") and not any(x.kind == "dim" for x in items):
        # who is spent with is the maker ('who has the most cranes' names no one column: left unread)
        first.kind, first.value = "dim", "manufacturer"
        first.note = f"'{first.surface}' read as one row per manufacturer"
    located = [i for i, x in enumerate(items) if x.kind in ("unknown", "stop") and x.surface.lower() in ("sitting", "sat", "parked")]
    busiest = any(x.kind == "super" and x.value == ("max", "count") and "busiest" in x.surface.lower() for x in items)
    now = [x for x in items if x.surface.lower() in NOW_WORDS or (x.kind == "date" and x.surface.lower() == "today")]
    if (located or busiest) and now and not any(x.kind == "flag" for x in items):
        # 'sitting today', 'busiest right now': what is on site now
        for x in now[1:]:
            x.kind, x.value = "stop", None
        now[0].kind, now[0].value, now[0].span = "flag", "on_site_now", None
        now[0].note = f"'{now[0].surface}' read as on site now"
    for i in located:
        items[i].kind, items[i].value = "stop", None


def _qualifier_at_an_amount(items: list[Item]) -> None:
    """'cranes forecast at more than 1.5x their plan cost', 'forecast at 1m or more': 'at' between
    a cost qualifier and an amount adds nothing (the forecast is that amount)."""
    for i in range(1, len(items) - 1):
        if items[i].kind == "prep" and items[i].surface.lower() == "at" and items[i - 1].kind == "qual" \
                and (items[i + 1].kind in ("num", "cmp") or _TIMES_WORD.match(items[i + 1].surface.lower())):
            items[i].kind, items[i].value = "stop", None


_TIMES_WORD = re.compile(r"^\d+(\.\d+)?x$")


def _actually_spent(items: list[Item]) -> None:
    """'actually spent': 'actually' says again what 'spent' is, the actual cost."""
    for i, item in enumerate(items[:-1]):
        nxt = next((x for x in items[i + 1:] if x.kind not in ("stop", "verb", "sofar")), None)
        if item.kind == "qual" and item.value == "actual" and nxt is not None and nxt.kind == "measure" \
                and nxt.value == "actual_cost" and nxt.surface.lower() in ("spent", "been spent"):
            item.kind, item.value = "stop", None


def _a_unit_is_one(items: list[Item]) -> None:
    """'more than a week after', 'at least a month late': 'a' before a unit after a comparison is one."""
    for i in range(1, len(items) - 1):
        item = items[i]
        if item.kind == "stop" and item.surface.lower() in ("a", "an", "one") and items[i - 1].kind == "cmp" \
                and items[i + 1].kind == "unit":
            token = Token(kind="num", text="1", surface=item.surface, start=item.start, end=item.end, value=1.0)
            item.kind, item.value = "num", token


def _unit_by_unit(items: list[Item]) -> None:
    """'month by month', 'quarter by quarter': one row per month, as 'per month'."""
    k = 0
    while k < len(items):
        item = items[k]
        if item.kind == "unit" and " by " in item.surface.lower() and (k == 0 or items[k - 1].kind != "group"):
            items.insert(k, Item("group", None, item.start, item.end, item.surface))
            k += 1
        k += 1


SCOPE_WORDS = ("across", "among", "amongst")
POSTFIX_NEGATIONS = ("excluded", "left out", "not included", "aside", "omitted", "excepted")


def _scope_words(items: list[Item]) -> None:
    """'across the scaffolding rentals', 'among the welding kit': the records the question is about,
    not a grouping ('across areas' groups); 'across 2026' is within 2026."""
    for k, item in enumerate(items):
        if item.surface.lower() not in SCOPE_WORDS:
            continue
        nxt = next((x for x in items[k + 1:] if x.kind != "stop"), None)
        own = any(x.surface.lower() in ("their", "its", "each", "every") for x in items[k + 1:items.index(nxt)]) \
            if nxt is not None else False
        if nxt is None or nxt.kind in ("dim", "unit") or own:  # 'across all their rentals': each group's own
            continue
        if nxt.kind == "date":
            item.kind, item.value = "prep", "in"
        elif nxt.kind in ("value", "record", "flag", "part", "qual", "neg"):
            item.kind, item.value = "stop", None
            item.note = f"'{item.surface}' read as the records named after it"


def _exclusions_said_after(items: list[Item]) -> None:
    """'vehicles excluded', 'cancelled ones left out': the negation said after what it excludes,
    moved before it, where the grammar reads a negation."""
    k = 0
    while k < len(items):
        item = items[k]
        if item.kind == "neg" and item.surface.lower() in POSTFIX_NEGATIONS:
            j = k - 1
            while j >= 0 and items[j].kind in ("stop", "record"):
                j -= 1
            ends = k + 1 == len(items) or items[k + 1].kind in ("and", "stop")
            if j >= 0 and ends and items[j].kind in ("value", "flag") and (j == 0 or items[j - 1].kind != "neg"):
                items.insert(j, items.pop(k))
        k += 1


def _verb_forms(items: list[Item]) -> None:
    """Words whose stem is another entry's: 'tops the budget' exceeds it (not a top N); 'the 3
    cheapest classes on average rate' ranks by it; 'that actually slipped' is 'that slipped'."""
    ranked = False
    for k, item in enumerate(items):
        nxt = items[k + 1] if k + 1 < len(items) else None
        word = item.surface.lower()
        if item.kind == "top" and word in ("tops", "topped", "topping") and (nxt is None or nxt.kind != "num"):
            item.kind, item.value = "cmp", "gt"
            item.note = f"'{item.surface}' read as more than"
        ranked = ranked or item.kind in ("top", "super")
        if ranked and word == "on" and item.kind == "prep" and k > 0 and items[k - 1].kind == "dim" \
                and nxt is not None and nxt.kind in ("agg", "measure"):
            item.kind, item.value = "group", None
            item.note = f"'{item.surface}' read as 'by': what the ranking is by"
        if item.kind == "qual" and word == "actually" and nxt is not None and (nxt.kind in ("cmp", "flag") or (
                nxt.kind == "measure" and nxt.surface.lower() in ("slipped", "delayed"))):
            item.kind, item.value = "stop", None  # 'that actually went over plan': said for emphasis
        if item.kind == "measure" and word == "rent" and any(
                x.surface.lower() in ("do", "does", "did", "we", "they") for x in items[max(0, k - 3):k]):
            item.kind, item.value = "value", [("source", "Rental")]  # 'how many does the project rent': the verb
            item.note = f"'{item.surface}' read as a verb: rentals"


def _planned_for_a_length(items: list[Item]) -> None:
    """'planned for under 60 days', 'forecast for more than 18 months': the length of that period, as
    'planned duration under 60 days'."""
    for i in range(len(items) - 4):
        q, lead, cmp, num, unit = items[i:i + 5]
        if q.kind == "qual" and lead.surface.lower() == "for" and cmp.kind == "cmp" and num.kind == "num" \
                and unit.kind == "unit" and unit.value in ("day", "week", "month", "year"):
            lead.kind, lead.value = "measure", "duration"
            lead.note = f"'{q.surface} {lead.surface}' read as the {q.value} duration"


def _average_per_record(items: list[Item]) -> None:
    """'average plan cost per item': an average is already per record; 'per item' adds no grouping."""
    if not any(x.kind == "agg" and x.value in ("avg", "median") for x in items):
        return
    for a, b in zip(items, items[1:]):
        if a.kind == "group" and a.surface.lower() in ("per", "a", "each") and b.kind == "record" and not b.plural:
            for x in (a, b):
                x.kind, x.value = "stop", None
            b.note = f"'{a.surface} {b.surface}' read as part of the average (each record's figure)"


def _date_words_before_unit(items: list[Item]) -> None:
    """'per start year', 'by planned start quarter': the bucket said after the date it buckets, moved
    to the order the grammar reads ('per year of planned start')."""
    for i, item in enumerate(items):
        if item.kind != "group":
            continue
        j = i + 1
        while j < len(items) and items[j].kind in ("qual", "part") and j - i <= 2:
            j += 1
        if j > i + 1 and j < len(items) and items[j].kind == "unit" and items[j].value in ("month", "quarter", "year", "week") \
                and any(x.kind == "part" for x in items[i + 1:j]):
            items[i + 1:j + 1] = [items[j], *items[i + 1:j]]


def _counts_of_a_dimension(items: list[Item]) -> None:
    """'class count for cranes', 'area count': the number of different values, as 'count of classes'
    (the count is moved before the dimension, where the grammar reads it); 'per area count' stays a
    count per group."""
    for i in range(len(items) - 1):
        dim, agg = items[i], items[i + 1]
        if dim.kind == "dim" and agg.kind == "agg" and agg.value == "count" and agg.surface.lower() in ("count", "counts") \
                and not any(x.kind in ("group", "and") for x in items[:i]):  # 'by area and category (counts)'
            items[i], items[i + 1] = agg, dim


def _monthly_superlatives(items: list[Item]) -> None:
    """'the dearest rental per month', 'cheapest crane a month': ranked by the monthly rate, not a
    total per calendar month (as '10k a month' is an amount of monthly rate)."""
    rows_are_records = not any(x.kind == "dim" for x in items)
    for i, item in enumerate(items):
        k = i + 1
        while k < len(items) and items[k].kind == "stop":
            k += 1  # 'which rentals cost the most per month', 'what's costing us the most a month'
        if item.kind == "measure" and item.value == "cost" and rows_are_records and k < len(items) and k > i + 1 \
                and items[k].kind == "super" and items[k].value[1] is None:
            item.kind, item.value = "stop", None  # as 'the dearest'
            item, i = items[k], k
            item.value = (item.value[0], "cost")
        if item.kind != "super" or item.value[1] != "cost":
            continue
        j = i + 1
        while j < len(items) and items[j].kind in ("stop", "record", "value", "verb"):
            j += 1
        if j >= len(items):
            continue
        first = items[j]
        said_a = items[j - 1].kind == "stop" and items[j - 1].surface.lower() == "a"  # 'a' is a stop word
        if first.kind == "unit" and first.value == "month" and (
                first.surface.lower() in ("monthly", "a month") or (said_a and first.surface.lower() == "month")):
            rate, extra = first, None
        elif first.kind == "group" and first.surface.lower() in ("per", "a", "each", "every") and j + 1 < len(items) \
                and items[j + 1].kind == "unit" and items[j + 1].value == "month" \
                and items[j + 1].surface.lower() == "month":
            rate, extra = items[j + 1], first
        else:
            continue
        rate.kind, rate.value = "measure", "monthly_rate"
        now = next((x for x in items if x.kind == "stop" and x.surface.lower() in NOW_WORDS), None)
        if now is not None and not any(x.kind == "flag" for x in items):  # costing us a month now: on hire now
            now.kind, now.value = "flag", "on_site_now"
            now.note = f"'{now.surface}' with a monthly rate read as on site now"
        rate.note = f"'{item.surface} ... {'' if extra is None else extra.surface + ' '}{rate.surface}' read as ranked by monthly rate"
        if extra is not None:
            extra.kind, extra.value = "stop", None


DAY_LENGTHS = ("slip", "start_slip", "arrival_delay", "days_overdue", "duration", "actual_duration")
DAYS_ASKED = ("how many", "number of", "no. of", "no of", "nr of", "num of", "count of")


def _days_asked(items: list[Item]) -> None:
    """'how many days', '(avg) number of days' ask for a length in days, not a count of records: the
    length another word names ('number of days slipped'), or else the period ('on average how many
    days is it on hire', 'how many days were they on site')."""
    for i, item in enumerate(items[:-1]):
        unit = items[i + 1]
        if item.kind != "agg" or item.value != "count" or item.surface.lower() not in DAYS_ASKED:
            continue
        if unit.kind == "measure" and unit.value in DAY_LENGTHS and unit.surface.lower().startswith("days "):
            item.kind, item.value = "stop", None  # 'average number of days on site', 'how many days overdue'
            continue
        if unit.kind != "unit" or unit.value != "day" or unit.surface.lower() != "days":
            continue
        if any(x.kind == "cmp" and str(x.value).endswith("_date") for x in items[i + 2:]):
            continue  # 'how many days after the planned start did they turn up': a gap between dates, not read here
        named = next((x for x in items[i + 2:] if x.kind == "measure" and x.value in DAY_LENGTHS), None)
        said = f"{item.surface} {unit.surface}"
        if named is not None:
            item.kind, item.value = "stop", None
            unit.kind, unit.value = "stop", None
            unit.note = f"'{said}' read as the length in days that '{named.surface}' names, not a number of records"
        else:
            item.kind, item.value, item.surface, item.end = "measure", "duration", said, unit.end
            unit.kind, unit.value, unit.used = "stop", None, True
            unit.surface = ""
    items[:] = [x for x in items if not (x.kind == "stop" and x.used and x.surface == "")]


def _compared_values(items: list[Item]) -> None:
    """'atlas vs the sullair', 'the atlas compressors vs the sullair ones': the two values compared sit
    side by side for the grammar, the article dropped and a noun both share ('compressors', 'ones')
    moved before the pair."""
    def column(item: Item) -> str | None:
        return item.value[0][0] if item.kind == "value" and len({c for c, _ in item.value}) == 1 else None

    for item in [x for x in items if x.kind == "vs"]:
        i = items.index(item)
        while i + 1 < len(items) and items[i + 1].kind == "stop" and items[i + 1].surface.lower() in ("the", "a", "an"):
            del items[i + 1]
        if i + 1 >= len(items) or i < 2:
            continue
        first, shared, second = items[i - 2], items[i - 1], items[i + 1]
        if column(first) and column(shared) and column(first) == column(second) != column(shared):
            items[i - 2], items[i - 1] = shared, first
            after = items[i + 2] if i + 2 < len(items) else None
            if after is not None and (after.surface.lower() in ("ones", "one") or (
                    after.kind == "value" and after.value == shared.value)):
                after.kind, after.value = "stop", None


def _each_record(items: list[Item]) -> None:
    """'for every rented crane show ...': every record of what follows, listed, not a grouping (the
    group words go with a dimension: 'for each area')."""
    for n, item in enumerate(items[:1]):  # only opening the question: 'the cost of each crane' is not read so
        if len(items) > 1 and item.kind == "group" and item.surface.lower() in ("for every", "for each", "every", "each") \
                and items[n + 1].kind in ("value", "record") \
                and not any(x.kind in ("dim", "unit") for x in items[n + 1:n + 4]):
            item.kind, item.value = "stop", None


def _rank_direction(items: list[Item]) -> None:
    """With a rank asked for: '1 = highest', 'longest first', 'biggest to smallest' say which end ranks 1
    (a 'rankdir' item, 'desc' or 'asc', for the grammar), and 'dense rank' that ties leave no gaps."""
    ranks = [x for x in items if x.kind == "rank"]
    if not ranks:
        return
    for n, item in enumerate(items):
        if item.kind == "unknown" and item.surface.lower() == "dense" and n + 1 < len(items) \
                and items[n + 1].kind == "rank":
            item.kind, item.value = "stop", None
            items[n + 1].value = "dense"
    for n, item in enumerate(items):
        if item.kind != "super":
            continue
        direction = "desc" if item.value[0] == "max" else "asc"
        before = [x.surface.lower() for x in items[max(0, n - 2):n]]
        after = items[n + 1] if n + 1 < len(items) else None
        if before == ["1", "="] or before[-1:] == ["="] and n >= 2 and items[n - 2].surface == "1":
            taken = items[n - 2:n]
        elif after is not None and after.surface.lower() == "first":
            taken = [after]
        elif after is not None and after.surface.lower() == "to" and n + 2 < len(items) \
                and items[n + 2].kind == "super" and items[n + 2].value[0] != item.value[0]:
            taken = items[n + 1:n + 3]  # 'biggest to smallest'
            if n > 0 and items[n - 1].surface.lower() == "from":
                taken.append(items[n - 1])
        else:
            continue
        item.kind, item.value = "rankdir", direction
        for x in taken:
            x.kind, x.value = "stop", None
            x.used = True


def _postfix_comparisons(items: list[Item]) -> None:
    """'8 or more overdue items', '150 items or more', '90 days or longer': the comparison said after
    its number is moved before it, where the amount readers take it ('at least 8 overdue items')."""
    for i, item in enumerate(list(items)):
        if item.kind != "cmp" or item.value not in ("gte", "lte") or item.surface.lower().split()[0] not in ("or", "and"):
            continue
        at = items.index(item)
        j = at - 1
        while j > 0 and at - j < 3 and items[j].kind in ("unit", "record", "value"):
            j -= 1
        if j >= 0 and items[j].kind == "num":
            items.insert(j, items.pop(at))


COMPARATIVES = {"more": "gt", "higher": "gt", "greater": "gt", "bigger": "gt", "larger": "gt", "worse": "gt",
                "less": "lt", "lower": "lt", "smaller": "lt", "better": "lt"}


def _comparative_before_than(items: list[Item]) -> None:
    """'a higher average rate than silo 4', 'a bigger total variance than the welding category': the
    comparative said before the figure is the comparison said after it ('average rate higher than
    silo 4'), which the readers of comparisons read. Only a figure sits between the two words; 'more
    cranes than generators' compares two sets of records and stays as it is."""
    for i, item in enumerate(items):
        word = item.surface.lower()
        if word not in COMPARATIVES or item.kind not in ("cmp", "unknown", "edit"):
            continue
        j = i + 1
        while j < len(items) and items[j].kind in ("agg", "qual", "measure", "stop") \
                and items[j].surface.lower() != "than":
            j += 1
        between = items[i + 1:j]
        if j >= len(items) or items[j].surface.lower() != "than" or items[j].kind != "unknown" \
                or not any(x.kind in ("measure", "qual") for x in between):
            continue
        said = Item("cmp", COMPARATIVES[word], items[j].start, items[j].end, f"{item.surface} than",
                    span=items[j].span, token=items[j].token)
        items[i:j + 1] = [*between, said]


def _rate_of_a_flag(items: list[Item]) -> None:
    """'the cancellation rate', 'a higher overdue rate': how often records are so, not a monthly hire
    rate. The offline reader has no figure for that, so 'rate' is left unread and the question declines
    instead of comparing monthly rates."""
    for a, b in zip(items, items[1:]):
        if a.kind == "flag" and b.kind == "measure" and b.value == "monthly_rate" \
                and b.surface.lower() in ("rate", "rates"):
            b.kind, b.value = "unknown", None


def _date_of_an_event(items: list[Item]) -> None:
    """'the most recent demob date', 'the last forecast off-hire date': 'date' after the event names
    the event's date, which the event already is."""
    for a, b in zip(items, items[1:]):
        if a.kind == "part" and b.kind == "unknown" and b.surface.lower() in ("date", "dates"):
            b.kind = "stop"


def _delay_against_plan(items: list[Item]) -> None:
    """'average arrival delay against plan', 'slip vs plan': a delay is already measured from the plan,
    so the words after it restate it."""
    for a, b, c in zip(items, items[1:], items[2:]):
        if a.kind == "measure" and a.value in ("slip", "start_slip", "arrival_delay") \
                and b.surface.lower() in ("against", "vs", "versus", "relative to", "compared to", "compared with") \
                and c.kind == "qual" and c.value == "plan":
            for x in (b, c):
                x.kind, x.value = "stop", None


def _share_said_last(items: list[Item]) -> None:
    """'how much of the actual spend has gone to Liebherr, in percent', 'how many of the rentals are
    cranes, as a %': the part asked for as a share, said at the end; read as 'what % of ...'."""
    if len(items) < 3 or items[0].kind != "agg" or items[0].surface.lower() not in ("how much", "how many") \
            or items[1].surface.lower() != "of":
        return
    last = max((n for n, x in enumerate(items) if x.kind == "share"), default=None)
    if last is None or last < 2 or any(x.kind not in ("stop", "and") for x in items[last + 1:]):
        return
    said = [items[last].surface.lower().split()[0], items[last - 1].surface.lower().split()[-1]]
    if not ({"in", "as", "a"} & set(said)):
        return
    share = items.pop(last)
    if items[last - 1].kind == "stop" and items[last - 1].surface.lower() in ("as a", "as", "in", "as an", "a"):
        items.pop(last - 1)
        last -= 1
    while items[last - 1].kind == "and" and items[last - 1].surface == ",":
        items.pop(last - 1)  # the comma before it
        last -= 1
    items[0] = share


def _costing_in_hire(items: list[Item]) -> None:
    """'what's the camp costing us in hire (at the moment)': what the rentals charge a month, which
    right now is the monthly rate of those on site."""
    for n, item in enumerate(items):
        if item.kind != "measure" or item.value != "cost" or not item.surface.lower().startswith("costing"):
            continue
        k = n + 1
        while k < len(items) and items[k].kind == "stop":
            k += 1
        if k + 1 < len(items) and items[k].surface.lower() == "in" and items[k + 1].kind == "value" \
                and items[k + 1].surface.lower() == "hire":
            item.kind, item.value = "agg", "sum"  # what they cost, all together, each month
            items[k].kind, items[k].value = "measure", "monthly_rate"
            item.note = f"'{item.surface} ... in hire' read as the total monthly rate"
            now = next((x for x in items if x.kind == "stop" and x.surface.lower() in NOW_WORDS), None)
            if now is not None and not any(x.kind == "flag" for x in items):
                now.kind, now.value = "flag", "on_site_now"
                now.note = f"'{now.surface}' with a monthly rate read as on site now"
            return


def _worst_of_a_figure(items: list[Item]) -> None:
    """'the 5 worst slips', 'worst overrun in each area', 'the models that slip worst on average': the
    biggest of a figure that hurts, said next to it. Anywhere else ('the worst one', 'slipping the worst')
    it names no figure, so it is left unread."""
    for n, item in enumerate(items):
        if item.kind != "super" or item.surface.lower() not in ("worst", "the worst"):
            continue
        after = next((x for x in items[n + 1:] if x.kind != "stop"), None)
        before = next((x for x in reversed(items[:n]) if x.kind not in ("stop", "verb")), None)
        if (after is not None and (after.kind == "measure" or after.surface.lower() in ("first", "to"))) or (
                n > 0 and items[n - 1].surface == "=") or (
                before is not None and before.kind == "measure" and not before.surface.lower().endswith("ing")
                and (after is None or after.kind == "agg")):  # ('slipping the worst' is a condition, then no figure)
            continue
        item.kind, item.value = "unknown", None


def _burnt_through_alone(items: list[Item]) -> None:
    """'how much have we burnt through at the jetty': the actual spend. Said of another figure ('how
    much of the budget have we burnt through') it is a share of that figure, which is not read here."""
    burnt = [x for n, x in enumerate(items) if x.kind == "measure" and x.value == "actual_cost"
             and x.surface.lower().endswith(" through")
             and not (n + 1 < len(items) and items[n + 1].kind == "cmp")]  # ('burnt through more than their budget')
    if burnt and any(x.kind in ("measure", "qual") and x not in burnt for x in items):
        for x in burnt:
            x.kind, x.value = "unknown", None


def _how_long_planned(items: list[Item]) -> None:
    """'how long are generators forecast to stay', 'how long were the cranes planned to last': the
    length of that date set's period; the qualifier moves before the length, where it is read."""
    for n, item in enumerate(items):
        if item.kind != "measure" or item.value != "duration" or item.surface.lower() != "how long":
            continue
        k = n + 1
        while k < len(items) and k - n <= 4 and items[k].kind in ("value", "record", "verb", "stop"):
            k += 1
        if k < len(items) and items[k].kind == "qual" and " to " in f" {items[k].surface.lower()} ":
            items.insert(n, items.pop(k))
        for x in items:  # 'how long ..., on average': 'how long' of several records is their average already
            if x.kind == "agg" and x.value == "avg" and x.surface.lower() in ("on average", "on avg", "on avg."):
                x.kind, x.value = "stop", None
        return


def _moving_averages(items: list[Item]) -> None:
    """'3-month moving average', '3 month rolling avg': the average of a period's figure and the N - 1
    periods before it (a 'moving' item: N and the unit). The unit stays as the time bucket when the
    question names no other of that length ('3-month moving avg of starts for 2027')."""
    n = 0
    while n + 3 < len(items):
        num, unit, word, agg = items[n:n + 4]
        if num.kind == "num" and unit.kind == "unit" and word.surface.lower() in ("moving", "rolling") \
                and agg.kind == "agg" and agg.value == "avg" and num.token is not None:
            periods = int(float(num.token.text))
            moving = Item("moving", (periods, unit.value), num.start, agg.end,
                          f"{num.surface} {unit.surface} {word.surface} {agg.surface}", span=num.span, token=num.token)
            others = [x for x in items[:n] + items[n + 4:] if x.kind == "unit" and x.value == unit.value]
            items[n:n + 4] = [moving] if others else [unit, moving]
            for x in items:
                if x.kind == "unknown" and x.surface.lower() in ("smooth", "smoothed", "smoothing"):
                    x.kind = "stop"  # 'smooth the spend with a 3-month moving average'
        n += 1


def _separately(items: list[Item]) -> None:
    """'for BEO and PROJECT separately, rank the areas', 'separately for rentals and for purchases':
    every value of a two-valued column, each on its own, is 'within each' of that column."""
    at = next((n for n, x in enumerate(items) if x.kind == "unknown" and x.surface.lower() == "separately"), None)
    if at is None:
        return
    for span in (range(at - 1, max(-1, at - 7), -1), range(at + 1, min(len(items), at + 7))):
        said = [n for n in span if items[n].kind not in ("stop", "and")]
        said = said[:2]
        if len(said) != 2 or any(items[n].kind != "value" for n in said):
            continue
        lo, hi = min(said), max(said)
        if any(items[n].kind not in ("stop", "and") or items[n].surface == "," for n in range(lo + 1, hi)):
            continue
        columns = {c for n in said for c, _ in items[n].value}
        values = {v for n in said for _, v in items[n].value}
        column = next(iter(columns))
        if len(columns) != 1 or FIXED_VALUES.get(column) != values:
            continue
        first, last = min(lo, at), max(hi, at)
        while first > 0 and items[first - 1].kind == "stop" and items[first - 1].surface.lower() == "for":
            first -= 1
        group = Item("group", None, items[first].start, items[first].end, "within each", span=items[first].span,
                     token=items[first].token)
        dim = Item("dim", column, items[hi].start, items[hi].end, " ".join(x.surface for x in items[first:last + 1]),
                   span=items[hi].span, token=items[hi].token)
        items[first:last + 1] = [group, dim]
        return


def _busy_now(items: list[Item]) -> None:
    """'which silo is the quietest at the moment', 'the busiest area right now': how much kit is on site
    now."""
    if not any(x.kind == "super" and x.value[1] == "count" and any(w in x.surface.lower() for w in ("busiest", "quietest",
               "least busy")) for x in items) or any(x.kind in ("flag", "date", "part") for x in items):
        return
    now = next((x for x in items if x.kind == "stop" and x.surface.lower() in NOW_WORDS), None)
    if now is not None:
        now.kind, now.value = "flag", "on_site_now"
        now.note = f"'{now.surface}' with how busy read as on site now"


def _dimension_wise(items: list[Item]) -> None:
    """'supplier-wise', 'category-wise': per supplier, which the dimension word already says."""
    for a, b in zip(items, items[1:]):
        if a.kind == "dim" and b.kind == "unknown" and b.surface.lower() in ("wise", "-wise"):
            b.kind, b.value = "stop", None


def _qualified_hire(items: list[Item]) -> None:
    """'the longest forecast hire', 'shortest planned hire': after a length superlative, a qualifier
    and 'hire' name the hire period of that date set, not the rentals, when the question names its
    records another way ('the item with the longest forecast hire')."""
    if not any(x.kind == "record" for x in items):
        return  # 'the longest planned hire': the hire is the record
    for n in range(1, len(items) - 1):
        sup, qual, hire = items[n - 1], items[n], items[n + 1]
        if sup.kind == "super" and sup.value[1] == "duration" and qual.kind == "qual" \
                and qual.value in ("plan", "forecast", "actual") and hire.kind == "value" \
                and hire.surface.lower() in ("hire", "hires"):
            hire.kind, hire.value = "measure", "duration"


def _qualifier_then_total(items: list[Item]) -> None:
    """'forecast total and actual total', 'baseline total': the cost of that qualifier, totalled, as
    'total forecast' is; the two items swap places so the aggregate comes before its measure."""
    moved: set[int] = set()  # the positions the qualifiers swapped so far went to
    for n in range(len(items) - 1):
        qual, agg = items[n], items[n + 1]
        after = items[n + 2] if n + 2 < len(items) else None
        if qual.kind == "qual" and qual.value in ("plan", "forecast", "actual") and agg.kind == "agg" \
                and agg.value in ("sum", "avg", "median") and agg.surface.lower() in (
                    "total", "totals", "average", "avg", "median", "sum") \
                and (after is None or after.kind not in ("measure", "qual", "part")):
            listed = n >= 2 and items[n - 1].kind in ("and", "vs") and items[n - 2].kind == "qual" \
                and n - 2 not in moved  # 'plan vs actual total': one total of both, read as a list
            k = n + 2
            while k < len(items) and items[k].kind in ("stop", "verb"):
                k += 1
            compared = (k < len(items) and items[k].kind == "cmp") or any(x.kind == "cmp" for x in items[:n])
            # ('the forecast total is more than 3% above the plan total': a comparison reads its own sides)
            if not listed and not compared:
                items[n], items[n + 1] = agg, qual
                moved.add(n + 1)


def _value_then_its_column(items: list[Item]) -> None:
    """'the welding category', 'the jetty area': a column word right after one of its values says which
    column the value is, not 'per category'."""
    for n, item in enumerate(items[1:], 1):
        before = items[n - 1]
        if item.kind == "dim" and not item.plural and before.kind == "value" \
                and item.surface.lower() in ("area", "zone", "location", "category") \
                and {c for c, _ in before.value} == {item.value} and len({v for _, v in before.value}) == 1:
            item.kind, item.value = "stop", None
            item.note = f"'{before.surface} {item.surface}' read as the {before.surface} {item.surface}, not per {item.surface}"


def _first_and_last(items: list[Item]) -> None:
    """'the last planned finish', 'first actual arrival': before a date word, 'last' and 'first' are
    the latest and earliest date, not 'to last' (a length) or an unknown word."""
    for n, item in enumerate(items[:-1]):
        said = item.surface.lower()
        if said not in ("last", "first", "final") or item.kind not in ("measure", "unknown", "stop"):
            continue
        k = n + 1
        while k < len(items) and items[k].kind == "qual":
            k += 1
        if k < len(items) and items[k].kind == "record" and any(x.kind == "group" for x in items):
            m = k  # 'the last piece of their kit to leave site' in each group: skip the record's own words
            while m + 1 < len(items) and m - k < 4 and items[m + 1].kind in ("record", "stop") \
                    and items[m + 1].surface.lower() != "to":
                m += 1
            if m + 2 < len(items) and items[m + 1].surface.lower() == "to" and items[m + 2].kind == "part":
                k = m + 2  # 'the first thing to demob in each category': a record of each group
        happened = (len(items) > 1 and items[1].surface.lower() == "did") or any(
            x.surface.lower().startswith("demob") for x in items)  # ('when did ...', '... - id and demob date')
        if k < len(items) and items[k].kind == "part":
            item.kind, item.value = "super", ("min" if said == "first" else "max", "date")
            if happened and k > n + 1 and items[k].value[1] is None and items[k - 1].kind != "qual":
                # 'the last piece of their kit to leave site - id and demob date': the demob that happened
                items.insert(k, Item("qual", "actual", items[k].start, items[k].start, "actual",
                                     span=items[k].span, token=items[k].token))
                return
        elif n > 0 and items[n - 1].kind == "part" and items[n - 1].value[1] is None \
                and items[n - 1].surface.lower().endswith("ing") and any(x.kind == "group" for x in items):
            # 'the 3 rentals finishing last in each category': the latest ends of each group
            item.kind, item.value = "super", ("min" if said == "first" else "max", "date")
            items[n - 1], items[n] = items[n], items[n - 1]
        elif items[0].surface.lower() == "when" and k < len(items) and items[k].kind in ("record", "value"):
            # 'when did the last bit of welding gear leave site': the latest date of that event
            m = k
            while m < len(items) and m - k < 6 and items[m].kind in ("record", "value", "stop", "verb"):
                m += 1
            if m < len(items) and items[m].kind == "part":
                item.kind, item.value = "super", ("min" if said == "first" else "max", "date")
                if happened and items[m].value[1] is None:
                    # 'when did ... leave': it has happened, so the actual date
                    items.insert(m, Item("qual", "actual", items[m].start, items[m].start, "did",
                                         span=items[m].span, token=items[m].token))
                    return


def _events_and_stays(items: list[Item], today: date) -> None:
    """'demobs', 'arrivals' (plural event nouns) are events that happened: the actual date, not the
    forecast one, unless a qualifier says whose date ('planned arrivals') or a date after today says
    they are still to come ('arrivals next month': the forecast, as any date with no qualifier);
    'how long was it on site' is the actual period, not a condition on being there now."""
    future = any(x.kind == "date" and x.span is not None and x.span.start > today for x in items)
    for i, item in enumerate(items):
        key = " ".join(stem(w) for w in item.surface.lower().replace("-", " ").split())
        near = [x for x in items[max(0, i - 2):i + 2] if x.kind == "qual"]
        plural = item.plural or (" " in item.surface and item.surface.lower().split()[0].endswith("s"))  # 'arrivals on site'
        counted = i + 1 < len(items) and items[i + 1].surface.lower() in ("count", "counts", "numbers", "tally")
        plural = plural or counted  # 'the demob count': the demobs, counted
        if item.kind == "part" and plural and item.value[1] is None and key in EVENT_NOUNS | {"off hire"} \
                and not near and not future:
            item.value = (item.value[0], "actual")
            item.note = f"'{item.surface}' read as events that happened (actual {item.value[0]})"
    if any(x.kind == "agg" and x.value == "sum_default" for x in items) and not any(
            x.kind == "measure" and x.value != "cost" for x in items):  # 'how much are we over plan': the overrun
        for i, item in enumerate(items):
            nxt = items[i + 1] if i + 1 < len(items) else None
            if any(x.kind == "measure" for x in items) and not (
                    i > 0 and items[i - 1].kind == "measure" and items[i - 1].value == "cost"):
                continue  # 'how much do they cost over plan': only the cost said right before
            over = (item.kind == "flag" and item.value == "over_budget") or (
                item.kind == "cmp" and item.value == "gt" and item.surface.lower() in ("over", "above")
                and nxt is not None and nxt.kind == "qual" and nxt.value == "plan")
            if not over:
                continue
            if i > 0 and items[i - 1].kind == "measure":  # the cost said before 'over plan' is the overrun
                items[i - 1].kind, items[i - 1].value = "stop", None
            if item.kind == "flag" and item.value == "over_budget":
                item.kind, item.value = "measure", "cost_variance"
                item.note = f"'how much ... {item.surface}' read as the cost variance (forecast cost - plan cost)"
                break
            if item.kind == "cmp" and item.value == "gt" and item.surface.lower() in ("over", "above") and \
                    nxt is not None and nxt.kind == "qual" and nxt.value == "plan":
                item.kind, item.value = "measure", "cost_variance"
                nxt.kind, nxt.value = "stop", None
                item.note = (f"'how much ... {item.surface} {nxt.surface}' read as the cost variance "
                             "(forecast cost - plan cost)")
                break
    for i, first in enumerate(items):
        if first.kind != "measure" or first.value not in ("duration", "actual_duration"):
            continue
        j = i + 1
        asked = first.surface.lower() in ("how long", "long") or first.surface.lower().endswith(" days")
        while j < len(items) and (items[j].kind in ("stop", "verb", "value", "record") or (asked and (
                items[j].kind == "qual" or (items[j].kind == "part" and items[j].value == ("end", "actual"))))):
            j += 1  # 'how many days were demobbed items on site', 'how long is it forecast on hire'
        second = items[j] if j < len(items) else None
        if second is None:
            continue
        between = items[i + 1:j]
        if first.value == "duration" and asked and second.kind == "flag" and second.value == "on_hire":
            second.kind, second.value = "stop", None  # 'how long is it on hire': the period, as any length
            for x in between:
                if x.kind == "qual" and x.value == "forecast":  # 'forecast on hire': the forecast period, as read
                    x.kind, x.value = "stop", None
            second.note = f"'{first.surface} ... {second.surface}' read as the length of the hire period"
        elif first.value == "duration" and asked and second.kind == "flag" \
                and second.value == "on_site_now" and second.surface.lower() in ("on site", "onsite", "at site") \
                and not up_to_now(items):  # 'how long has it been on site (so far)': the stay up to today
            first.value = "actual_duration"  # 'how long were the pumps on site'
            second.kind, second.value = "stop", None
            for x in between:
                if x.surface.lower() in ("actually", "actual", "really"):  # 'actually on site': the actual period, as read
                    x.kind, x.value, x.used = "stop", None, True
            second.note = f"'{first.surface} ... {second.surface}' read as the time on site (actual end - actual start)"
        elif first.value == "actual_duration" and second.kind == "qual" and second.value == "actual" and j == i + 1:
            second.kind, second.value = "stop", None  # 'time on hire (actual)': already the actual period


def up_to_now(items: list[Item]) -> bool:
    """'has been', 'so far', 'still', 'to date': a length that runs up to today, not a past period."""
    said = " ".join(x.surface.lower() for x in items)
    return re.search(r"\b(been|so far|still|to date|till now|until now|up to now)\b", said) is not None


_TYPO_KINDS = {"agg", "super", "measure", "qual", "part", "dim", "unit", "flag", "record", "share", "value", "cmp"}
_TYPO_WORDS: dict[str, tuple[str, object]] = {}


def _typo_words() -> dict[str, tuple[str, object]]:
    if not _TYPO_WORDS:
        _TYPO_WORDS.update({key: entry for key, entry in PHRASES.items()
                            if " " not in key and key.isalpha() and len(key) >= 4 and entry[0] in _TYPO_KINDS})
    return _TYPO_WORDS


def close_word(word: str) -> str | None:
    """The one lexicon word a misspelt word stands for ('forcast' -> 'forecast'), or None.

    A typo here is one dropped, added, changed or swapped letter (two in words of 8 letters or more),
    never in the first letter, and never a shorter word ('plant' is not 'plan'); in a word of 4 letters
    or fewer only a dropped letter ('totl'), as a changed one mostly makes another word ('made', 'make'). If two words are that
    close, it is not a typo the reader can resolve, and the word stays unknown.

    >>> [close_word(w) for w in ("forcast", "catagory", "quater", "equipmnet", "plant", "zorblax")]
    ['forecast', 'category', 'quarter', 'equipment', None, None]
    """
    if len(word) < 4 or not word.isalpha() or word in PHRASES:
        return None  # a word the lexicon knows as it is is not misspelt
    limit = 2 if len(word) >= 8 else 1
    best: list[tuple[int, str]] = []
    for key in _typo_words():
        if key[0] != word[0] or len(key) < len(word) or len(key) > len(word) + limit:
            continue
        if len(word) <= 4 and len(key) == len(word):
            continue  # a changed letter in a short word is mostly another word ('made' is not 'make')
        distance = OSA.distance(word, key, score_cutoff=limit)
        if distance <= limit:
            best.append((distance, key))
    if not best:
        return None
    best.sort()
    ties = [k for d, k in best if d == best[0][0]]
    if len({_typo_words()[k] for k in ties}) > 1:
        return None
    return ties[0]


def _corrected_phrase(tokens: list[Token], i: int, question: str) -> Item | None:
    """A misspelt word read as the word it stands for, together with the words after it when they make
    a longer phrase of the lexicon ('montly rates' is the monthly rate, 'forcast end' a date part)."""
    known = close_word(tokens[i].stem)
    if known is None:
        return None
    for n in range(min(MAX_PHRASE, len(tokens) - i), 1, -1):
        key = " ".join([known, *(t.stem for t in tokens[i + 1:i + n])])
        if key in PHRASES:
            kind, value = PHRASES[key]
            last = tokens[i + n - 1]
            return Item(kind, [value] if kind == "value" else value, i, i + n,
                        question[tokens[i].start:last.end], plural=last.text != last.stem,
                        note=f"'{question[tokens[i].start:tokens[i].end]}' read as '{known}' (close spelling)")
    return None


def _unknown(tokens: list[Token], i: int, question: str, vocab: Vocabulary) -> Item:
    """A word no phrase covers: a manufacturer's short name, a close spelling of a word or a value, or unknown."""
    token = tokens[i]
    surface = question[token.start:token.end]
    if token.kind == "word" and len(token.text) >= 4 and not any(key.startswith(root(token.text))
                                                                  for key in vocab.short):
        known = close_word(token.stem)
        if known is not None:
            kind, value = PHRASES[known]
            if kind == "value":
                value = [value]
            return Item(kind, value, i, i + 1, surface, plural=token.text != token.stem,
                        note=f"'{surface}' read as '{known}' (close spelling)")
    if token.kind == "word" and len(token.text) >= 3:
        word = root(token.text)
        short = [e for key, entries in vocab.short.items() if key.startswith(word) for e in entries]
        if short and len({e[1] for e in short}) == 1:
            return Item("value", short[:1], i, i + 1, surface, note=f"short name of {short[0][1]}")
        if short:
            return Item("ambiguous", sorted({e[1] for e in short}), i, i + 1, surface)
        if len(word) >= 5 and vocab.words:
            match = process.extractOne(word, vocab.words, scorer=fuzz.ratio, score_cutoff=84)
            if match:
                close = [e for form, entries in vocab.phrases.items() if form == (match[0],) for e in entries]
                if close:
                    return Item("value", _prefer(close), i, i + 1, surface, plural=token.text != token.stem,
                                note="close spelling")
    return Item("unknown", None, i, i + 1, surface, token=token)
