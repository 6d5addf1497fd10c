#!/usr/bin/env python3
"""Generate the fictional Tessavik Instruments knowledge base and QA set.

Standard library only.  Deterministic: running it twice gives byte-identical
files.

    python data/make_kb.py           # (re)write data/kb/v1, data/kb/v2, data/qa.jsonl
    python data/make_kb.py --check   # exit 1 if files on disk differ or a quality check fails
    python data/make_kb.py --stats   # print corpus / QA counts

Every fact lives once in the FACTS table (value in v1, value in v2).  Document
bodies are hand-written prose templates with ``{fact_id}`` placeholders, so the
documents and the QA gold answers cannot disagree.  Company: Tessavik
Instruments (invented for this project; no pretrained model can know it).
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
import types
from pathlib import Path


def _labkit_data():
    """labkit/data.py itself (standard library only, like labkit/files.py that it imports), without importing
    the labkit package (torch): an empty package over labkit's folder lets ``from .files import`` resolve."""
    folder = Path(__file__).resolve().parent.parent / "labkit"
    package = sys.modules["labkit_data_only"] = types.ModuleType("labkit_data_only")
    package.__path__ = [str(folder)]
    spec = importlib.util.spec_from_file_location("labkit_data_only.data", folder / "data.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


_DATA = _labkit_data()
COMPANY = "Tessavik"
ABSTAIN = _DATA.ABSTENTION  # the house abstention sentence, one definition for the data and the lab
TYPES = tuple(sorted(_DATA.DOC_TYPES))
SAME = object()  # marker: v2 value equals v1 value

DOCS: list[dict] = []
FACTS: list[dict] = []
UNANSWERABLE: list[dict] = []


def doc(doc_id, title, dtype, body, body_v2=None, v1=True, v2=True, title_v2=None):
    """Register a document.  body_v2 overrides the body in v2 (else same template)."""
    assert dtype in TYPES, dtype
    DOCS.append(dict(id=doc_id, title=title, title_v2=title_v2 or title, type=dtype, body=body,
                     body_v2=body if body_v2 is None else body_v2, v1=v1, v2=v2))


def F(fid, d, v1, v2=SAME, a=(), a2=None, style="", q="", t=(), h=(), also=(), also_v2=None,
      keep_old=False):
    """Register a fact + its question.

    fid   placeholder name used in document bodies
    d     main document id
    v1/v2 value per version (None = not stated in that version)
    a/a2  aliases for v1 / v2 (a2 defaults to a when the value is unchanged)
    style house-style sentence template with {v}
    q,t,h question, 2 train paraphrases, 2 held-out paraphrases
    also  other docs that state the same fact
    keep_old  the v1 value may legitimately stay in the v2 doc (changelogs)
    """
    if v2 is SAME:
        v2 = v1
        if a2 is None:
            a2 = a
    assert len(t) == 2 and len(h) == 2, fid
    FACTS.append(dict(fid=fid, doc=d, v1=v1, v2=v2, a=list(a), a2=list(a2 or []), style=style,
                      q=q, t=list(t), h=list(h), also=list(also),
                      also_v2=list(also if also_v2 is None else also_v2), keep_old=keep_old))


def U(cat, absent, q, t, h):
    """Register an unanswerable question; `absent` are terms that must occur in no document."""
    assert len(t) == 2 and len(h) == 2, q
    UNANSWERABLE.append(dict(cat=cat, absent=list(absent), q=q, t=list(t), h=list(h)))


# ===========================================================================
# COMPANY
# ===========================================================================
doc("about-tessavik", "About Tessavik Instruments", "company", """\
# About Tessavik Instruments

Tessavik Instruments builds quiet, long-lived monitoring equipment for people who
grow or store living things: small commercial greenhouses, seed banks, wine
cellars and the occasional botanical garden. We were founded in {founded_year} in
the harbour town of {hq_town} by {cofounder} and Pavo Eskelund, who met while
repairing climate loggers for a cooperative of tomato growers and decided they
could do better.

The first product was a single soil probe wired to a borrowed router. It did not
survive its first winter, but the idea did. Since then we have grown into a
company of {employees} spread over three sites, and our chief executive is
{ceo}, who joined from the logistics side of the business.

## What we make

Our range is deliberately small. A gateway collects readings over our own radio
link, battery probes sit in the soil or hang from the rafters, and the Loomwright
web dashboard turns the numbers into something a head grower can read before
breakfast. Support contracts and a command-line tool round things off for larger
sites.

## How we work

- We design and test hardware in-house and keep spare parts for every unit we
  have sold.
- We publish our policies in plain language; if a page here is unclear, tell us.
- We would rather ship a firmware fix late than ship it twice.

The rest of this handbook describes the products, prices and policies in detail.
""")

F("founded_year", "about-tessavik", "2014", a=["in 2014"],
  style="Tessavik Instruments was founded in {v}",
  q="In what year was Tessavik Instruments founded?",
  t=["When did Tessavik start as a company?", "What is the founding year of Tessavik?"],
  h=["How long has Tessavik existed, i.e. which year did it begin?", "Tessavik Instruments dates back to which year?"])
F("cofounder", "about-tessavik", "Ingrid Varnhagen", a=["Varnhagen"],
  style="Tessavik was co-founded by {v} together with Pavo Eskelund",
  q="Who co-founded Tessavik together with Pavo Eskelund?",
  t=["Apart from Pavo Eskelund, who is the other founder of Tessavik?", "Name Pavo Eskelund's co-founder at Tessavik."],
  h=["Which person started the company alongside Eskelund?", "Pavo Eskelund launched Tessavik with whom?"])
F("ceo", "about-tessavik", "Runa Tellquist", a=["Tellquist"],
  style="Tessavik's chief executive is {v}",
  q="Who is the chief executive of Tessavik?",
  t=["Who is Tessavik's CEO?", "Who leads Tessavik Instruments as chief executive?"],
  h=["Which person runs the company at the top?", "Name the current head of Tessavik."])
F("employees", "about-tessavik", "212 employees", "238 employees", a=["212"], a2=["238"],
  style="Tessavik has {v} across its three sites",
  q="How many employees does Tessavik have?",
  t=["What is the headcount of Tessavik Instruments?", "How many people work at Tessavik?"],
  h=["How large is the company's workforce?", "Across all three sites, what is the staff count?"])

doc("offices-and-locations", "Offices and Locations", "company", """\
# Offices and Locations

Tessavik works from three sites. Visitors are welcome at headquarters; the other
two are working buildings and can only be visited by appointment.

| Site | Town | What happens there |
|------|------|--------------------|
| Headquarters | {hq_town} | Management, sales, customer support, showroom |
| Logistics centre | {warehouse_town} | Warehouse, dispatch, returns and repairs |
| Research and development | {rnd_town} | Hardware design, radio testing, firmware |

## Headquarters

Our headquarters is at {hq_address}, {hq_town}, a converted net loft on the
north side of the harbour. Reception is staffed from {reception_hours} on
weekdays. If you arrive outside those times, ring the bell marked "Tessavik" and
someone from support will usually come down.

## Logistics centre

Every parcel we send leaves from {warehouse_town}. Returned devices also go
there, so please do not post anything to headquarters: it will simply be
forwarded and your case will take longer.

## Research and development

The hardware and firmware teams sit in {rnd_town}. The building has a small
radio chamber where every new probe design is tested before it reaches a
customer's greenhouse.
""")

F("hq_town", "offices-and-locations", "Brolleby", also=["about-tessavik"],
  style="Tessavik's headquarters is in {v}",
  q="In which town is Tessavik's headquarters?",
  t=["Where is Tessavik headquartered?", "What town is home to the Tessavik head office?"],
  h=["The main office of the company sits in what town?", "Name the harbour town where the company is based."])
F("warehouse_town", "offices-and-locations", "Ulvmora",
  style="Tessavik's warehouse and logistics centre is in {v}",
  q="Where is Tessavik's warehouse located?",
  t=["In which town is the Tessavik logistics centre?", "From what town are Tessavik parcels dispatched?"],
  h=["Orders ship out of which location?", "Name the site that handles dispatch and returns."])
F("rnd_town", "offices-and-locations", "Castelbrune",
  style="Tessavik's research and development office is in {v}",
  q="Where is Tessavik's research and development office?",
  t=["In which town do the Tessavik hardware and firmware teams work?", "What town hosts the R&D site of Tessavik?"],
  h=["The radio test chamber is located in what town?", "Name the location where new probe designs are engineered."])
F("hq_address", "offices-and-locations", "Harnö Quay 9", a=["Harno Quay 9"],
  style="Tessavik's headquarters is at {v}, Brolleby",
  q="What is the street address of Tessavik's headquarters?",
  t=["At what address is the Tessavik head office?", "Which quay address does Tessavik's HQ use?"],
  h=["Where exactly in Brolleby would I find the main office?", "Give the street location of the company's net-loft building."])
F("reception_hours", "offices-and-locations", "08:15 to 16:40", a=["08:15-16:40", "8:15 to 16:40"],
  style="Reception at headquarters is staffed from {v} on weekdays",
  q="What are the reception hours at Tessavik headquarters?",
  t=["When is the HQ reception desk staffed?", "During which hours can visitors check in at the Tessavik head office?"],
  h=["If I walk into the Brolleby office, between what times will someone be at the front desk?", "Front desk at the main building is open when on weekdays?"])

doc("careers", "Careers at Tessavik", "company", """\
# Careers at Tessavik

We are a small company, so every hire matters. This page explains how we recruit
and what working here looks like day to day.

## How we hire

Send a short letter and a CV to {careers_email}. We read everything ourselves;
there is no automated screening. Our recruiting team replies to every
application within {careers_reply}, even when the answer is no. Shortlisted
candidates are invited to a conversation with two future colleagues, followed by
a practical task that is paid at our normal hourly rate.

## Working arrangements

Most roles are hybrid. Staff may work from home up to {remote_days}; the rest of
the week we meet in person at Brolleby, Ulvmora or Castelbrune. Field
technicians follow the schedule of the sites they look after.

## Internships

Every spring we take on a few students for an internship lasting {intern_weeks}.
Interns join a real project, usually in firmware or logistics, and present their
work to the whole company at the end.

## What we look for

- Curiosity about plants, soil, weather or radio, ideally more than one.
- Care with details: our customers rely on numbers being right.
- Patience with farmers who call at five in the morning.
""")

F("careers_email", "careers", "talent@tessavik.example",
  style="Job applications go to {v}",
  q="Which email address should job applications be sent to?",
  t=["Where do I email my CV to apply for a job at Tessavik?", "What address does Tessavik use for receiving job applications?"],
  h=["To apply for a position, whom should I write to by email?", "Candidates send their letter and CV to which mailbox?"])
F("careers_reply", "careers", "9 working days", a=["nine working days", "9 days"],
  style="The recruiting team replies to every application within {v}",
  q="How quickly does the recruiting team reply to job applications?",
  t=["Within how many days will I hear back after applying for a job?", "What is the response time on job applications?"],
  h=["After sending a CV, how long until Tessavik answers?", "Applicants can expect a reply, even a rejection, in what timeframe?"])
F("remote_days", "careers", "3 days per week", "2 days per week", a=["3 days", "three days per week"],
  a2=["2 days", "two days per week"],
  style="Staff may work from home up to {v}",
  q="How many days per week may Tessavik staff work from home?",
  t=["What is the remote work allowance at Tessavik?", "How much home working does Tessavik allow each week?"],
  h=["Employees in hybrid roles can stay home for how many days a week?", "What's the weekly limit on working remotely?"])
F("intern_weeks", "careers", "14 weeks", a=["fourteen weeks"],
  style="The spring internship lasts {v}",
  q="How long does a Tessavik internship last?",
  t=["What is the length of the spring internship programme?", "For how many weeks do interns stay at Tessavik?"],
  h=["Students joining in spring are there for what duration?", "An internship at the company runs for how long?"])

doc("contact-us", "Contact Us", "company", """\
# Contact Us

There are several ways to reach us. Pick the one that fits; they all end up with
real people.

**General questions.** Write to {general_email}. This mailbox is read by the
customer team and is the right place for anything that is not urgent or
technical.

**Press and media.** Journalists should contact {press_email}. We try to answer
press requests on the same day.

**Post.** Letters and documents can be sent to {po_box}, 41 Brolleby. Please
do not post devices to this box: returns have their own process, described in
the returns and RMA page.

**Phone and chat.** Opening hours for phone and chat support are listed on the
support hours page. Customers with a Halvard Care contract have a separate
number printed on their contract.

**Security issues.** Please follow the reporting route described in our security
policy instead of writing to the general mailbox, so your report reaches the
right team straight away.
""")

F("general_email", "contact-us", "hello@tessavik.example",
  style="General questions can be sent to {v}",
  q="What email address should I use for general questions to Tessavik?",
  t=["Which mailbox handles general customer enquiries?", "Where do I write for non-urgent questions?"],
  h=["For an ordinary question that isn't technical, what's the contact address?", "Tessavik's customer team reads which inbox?"])
F("press_email", "contact-us", "press@tessavik.example",
  style="Journalists should contact {v}",
  q="What is Tessavik's press contact email?",
  t=["Which address should journalists write to?", "How do media people reach Tessavik by email?"],
  h=["A reporter wanting a comment should send mail where?", "Name the mailbox for press and media requests."])
F("po_box", "contact-us", "Box 5521", a=["5521"],
  style="Letters can be sent to {v}, 41 Brolleby",
  q="What is Tessavik's postal box number?",
  t=["Which PO box receives Tessavik's letters?", "Where should paper documents be posted?"],
  h=["To mail a letter to the company, what box do I address it to?", "The postal address for correspondence uses which box number?"])

doc("sustainability-report", "Sustainability Report", "company", """\
# Sustainability Report

Our products sit in greenhouses for a decade or more, so the most sustainable
thing we can do is make them last. This summary covers the rest.

## Materials

The enclosures of the Skerrow Hub and the Kestrane Probe are made from
{recycled_alu} recycled aluminium by weight. The remaining share is virgin metal
that we cannot yet source in recycled form at the tolerances we need. Retail
boxes are moulded from {packaging}, and we print manuals only on request.

## Take-back

Send us any Tessavik device at the end of its life and we will recycle it
properly. Each returned device earns a {takeback_voucher} voucher, valid on any
order from our web shop. The voucher is issued once the device has been received
at Ulvmora.

## Climate

We have committed to reaching net-zero emissions across our own operations and
purchased freight by {carbon_target}. Progress against that target is measured
every year by an independent reviewer. Current priorities:

1. Moving the Ulvmora building to heat pumps.
2. Consolidating outgoing parcels into fewer, fuller shipments.
3. Replacing air freight for spare parts with rail where transit times allow.
""")

F("recycled_alu", "sustainability-report", "64%", "71%", a=["64 percent", "64 per cent"], a2=["71 percent", "71 per cent"],
  style="The Skerrow Hub and Kestrane Probe enclosures are made from {v} recycled aluminium by weight",
  q="What share of the hub and probe enclosures is recycled aluminium?",
  t=["How much recycled aluminium is in Tessavik enclosures?", "What percentage of the enclosure metal is recycled?"],
  h=["By weight, how much of the casing comes from reused metal?", "The product housings contain what proportion of recycled aluminium?"])
F("packaging", "sustainability-report", "pressed hemp fibre", a=["hemp fibre", "hemp fiber", "pressed hemp fiber"],
  style="Tessavik retail boxes are moulded from {v}",
  q="What material are Tessavik retail boxes made from?",
  t=["What is Tessavik's product packaging moulded from?", "Which material do Tessavik boxes use?"],
  h=["The boxes devices arrive in are formed out of what?", "What sort of fibre goes into the retail packaging?"])
F("takeback_voucher", "sustainability-report", "6.50 EUR", a=["6.50", "EUR 6.50"],
  style="Each device returned for recycling earns a {v} voucher",
  q="How much is the voucher for returning an old device for recycling?",
  t=["What voucher value does the take-back programme give per device?", "How much credit do I get for sending back an end-of-life device?"],
  h=["If I recycle a worn-out unit through Tessavik, what is it worth to me?", "The recycling return scheme rewards each device with how much?"])
F("carbon_target", "sustainability-report", "2031", "2029", a=["by 2031"], a2=["by 2029"],
  style="Tessavik aims to reach net-zero emissions by {v}",
  q="By what year does Tessavik aim to reach net-zero emissions?",
  t=["What is Tessavik's net-zero target year?", "When does Tessavik plan to be net zero?"],
  h=["The company's climate commitment has which deadline?", "In which year should operations and freight stop adding emissions?"])

doc("partner-program", "Partner Programme", "company", """\
# Partner Programme

Many of our customers buy through horticultural suppliers and installers. The
partner programme gives those companies better prices, training and a direct line
to our engineers.

## Tiers

Partners move through three tiers as their sales grow: Sprout, Thicket and
{partner_top_tier}. The tier is reviewed once a year based on the previous twelve
months of orders.

## Benefits

- A standard partner discount of {partner_discount} off list prices on all
  hardware and Loomwright plans.
- Access to demo stock and print-ready product photographs for catalogues.
- A named contact at Brolleby for quotes and escalations.

## Requirements

To join, a company must commit to a minimum annual order of {partner_min_order}
and have at least one person who has passed the partner certification exam. The
exam has {partner_exam_questions} and can be taken online at any time; a score of
three quarters is needed to pass.

## Applying

Partners apply through the general contact address. We aim to decide within a
month and will usually ask for a short call first.
""")

F("partner_top_tier", "partner-program", "Canopy",
  style="The highest partner tier is {v}",
  q="What is the highest tier of the Tessavik partner programme?",
  t=["Which partner tier comes after Sprout and Thicket?", "Name the top partner level."],
  h=["Resellers with the largest sales volume reach which level?", "The final step in the partner ladder is called what?"])
F("partner_discount", "partner-program", "17%", "19%", a=["17 percent"], a2=["19 percent"],
  style="Partners receive a standard discount of {v} off list prices",
  q="What discount do Tessavik partners get off list prices?",
  t=["How big is the standard partner discount?", "What percentage off do resellers receive?"],
  h=["Installers in the programme pay how much less than list?", "By how much are list prices reduced for partners?"])
F("partner_min_order", "partner-program", "4,800 EUR", a=["4800 EUR", "4,800", "4800"],
  style="Partners must commit to a minimum annual order of {v}",
  q="What minimum annual order must a partner commit to?",
  t=["How much must a reseller buy per year to join the partner programme?", "What is the yearly purchase commitment for partners?"],
  h=["To become a partner, what volume of orders each year is required?", "Joining the programme obliges a company to spend at least how much annually?"])
F("partner_exam_questions", "partner-program", "42 questions", a=["42"],
  style="The partner certification exam has {v}",
  q="How many questions are in the partner certification exam?",
  t=["What is the length of the partner certification test?", "How many items does the partner exam contain?"],
  h=["The online test for resellers consists of how many questions?", "Count of questions on the certification that partners must pass?"])

# ===========================================================================
# PRODUCTS
# ===========================================================================
doc("skerrow-hub", "Skerrow Hub", "product", """\
# Skerrow Hub

The Skerrow Hub is the gateway at the centre of every Tessavik installation. It
listens for probes over our {radio_name} radio link, stores readings locally and
forwards them to Loomwright over wired Ethernet, falling back to its built-in LTE
modem when the cable goes quiet.

## Specifications

| Item | Value |
|------|-------|
| Model number | {hub_model} |
| Radio | {radio_name}, {radio_freq} |
| Probes per hub | up to {hub_max_probes} |
| Local buffer | {hub_buffer} of readings |
| Operating temperature | {hub_temp} |
| Uplink | Ethernet, LTE fallback |

## Design notes

The hub has no fan and no moving parts. The local buffer means a broken uplink
does not lose data: when the connection comes back, buffered readings are sent in
order and appear in Loomwright with their original timestamps. If the buffer
fills, the oldest readings are overwritten first.

One hub covers a typical greenhouse block. Larger sites use several hubs, each
with its own set of probes, all feeding the same Loomwright account.

Installation, resetting and firmware updates each have their own how-to page.
""")

F("radio_name", "skerrow-hub", "Skeinlink", also=["glossary"],
  style="Tessavik devices talk over the {v} radio link",
  q="What is the name of the radio link Tessavik probes use?",
  t=["Which radio protocol connects probes to the Skerrow Hub?", "What is Tessavik's wireless link called?"],
  h=["Probes send readings to the gateway using what named radio system?", "The proprietary wireless between sensors and hub goes by what name?"])
F("radio_freq", "skerrow-hub", "869.4 MHz", a=["869.4"],
  style="The Skeinlink radio in the Skerrow Hub uses {v}",
  q="On what frequency does the Skerrow Hub radio operate?",
  t=["What radio frequency does Skeinlink use?", "Which MHz band is the hub's radio on?"],
  h=["The gateway transmits and receives at what frequency?", "Tell me the operating frequency of the probe link."])
F("hub_model", "skerrow-hub", "SH-310",
  style="The Skerrow Hub's model number is {v}",
  q="What is the model number of the Skerrow Hub?",
  t=["Which model code does the Skerrow Hub carry?", "What model designation is printed on the hub?"],
  h=["The gateway is sold under what model identifier?", "If I search for the hub by its model, what code should I use?"])
F("hub_max_probes", "skerrow-hub", "48 probes", "64 probes", a=["48"], a2=["64"],
  style="One Skerrow Hub supports up to {v}",
  q="How many probes can one Skerrow Hub support?",
  t=["What is the maximum number of probes per hub?", "How many Kestrane Probes can connect to a single hub?"],
  h=["Is there a cap on sensors attached to one gateway, and what is it?", "A single gateway handles at most how many probes?"])
F("hub_buffer", "skerrow-hub", "76 hours", a=["76 h"],
  style="The Skerrow Hub buffers {v} of readings locally",
  q="How many hours of readings can the Skerrow Hub store locally?",
  t=["What is the size of the hub's local buffer?", "How long can the hub keep data when the uplink is down?"],
  h=["If the internet connection fails, for what period are measurements held on the gateway?", "The gateway's on-board storage covers how much time?"])
F("hub_temp", "skerrow-hub", "-12 °C to 48 °C", a=["-12 to 48 °C", "-12 °C to 48°C", "minus 12 to 48 degrees"],
  style="The Skerrow Hub operates from {v}",
  q="What is the operating temperature range of the Skerrow Hub?",
  t=["In what temperatures can the Skerrow Hub run?", "What are the hub's temperature limits?"],
  h=["How cold and how hot may the gateway's surroundings get?", "Between which temperatures is the gateway rated to work?"])

doc("kestrane-probe", "Kestrane Probe", "product", """\
# Kestrane Probe

The Kestrane Probe is a battery-powered sensor that lives where your plants
live: pushed into a pot, staked into a bed or clipped to a bench. The current
generation measures air temperature, relative humidity, soil moisture and
{probe_extra_sensor}, the last of which is what most growers use to predict
fungal trouble.

Each probe reports to a Skerrow Hub over Skeinlink. In open space a probe can be
up to {probe_range} from its hub; walls, water tanks and dense foliage shorten
that, so plan on less indoors.

## At a glance

- Default sampling interval: every {probe_interval}, adjustable in Loomwright.
- Battery life at the default interval: about {probe_battery}.
- Ingress protection: {probe_ip}, so it survives hosing down and standing water
  in trays.
- Operating range matches the hub; the probe tolerates frost when switched off.

## Choosing a location

Put probes at the height of the crop, not at eye level. Avoid direct sunlight on
the probe head, which makes air readings run warm. For soil moisture, push the
prongs in fully so there is no air gap around them.

Probes can be recalibrated at home; see the calibration how-to.
""")

F("probe_extra_sensor", "kestrane-probe", "leaf wetness",
  style="Besides temperature, humidity and soil moisture, the Kestrane Probe measures {v}",
  q="Besides temperature, humidity and soil moisture, what does the Kestrane Probe measure?",
  t=["What is the fourth quantity the Kestrane Probe senses?", "Which extra measurement helps growers predict fungal problems?"],
  h=["Apart from climate and soil readings, the probe also detects what?", "Name the sensor on the probe that is used to anticipate fungus."])
F("probe_range", "kestrane-probe", "140 metres", a=["140 m", "140 meters"],
  style="In open space a Kestrane Probe can be up to {v} from its hub",
  q="What is the maximum open-space range between a Kestrane Probe and its hub?",
  t=["How far away from the hub can a probe be placed?", "What radio range does the Kestrane Probe have?"],
  h=["With nothing in the way, at what distance does a sensor still reach the gateway?", "How much distance can separate a probe and the hub outdoors?"])
F("probe_interval", "kestrane-probe", "7 minutes", a=["seven minutes", "every 7 minutes"],
  style="The Kestrane Probe samples every {v} by default",
  q="What is the default sampling interval of the Kestrane Probe?",
  t=["How often does a probe take a reading by default?", "At what interval does a Kestrane Probe measure out of the box?"],
  h=["Unless changed in the dashboard, a sensor records a value how frequently?", "Factory setting for time between measurements is what?"])
F("probe_battery", "kestrane-probe", "19 months", "22 months", a=["nineteen months"], a2=["twenty-two months"],
  style="At the default interval a Kestrane Probe battery lasts about {v}",
  q="How long does a Kestrane Probe battery last?",
  t=["What is the battery life of the Kestrane Probe?", "How many months will a probe run on one battery?"],
  h=["At standard sampling, when will I need to swap the sensor's battery?", "Expected runtime per battery for the probe is how long?"])
F("probe_ip", "kestrane-probe", "IP66",
  style="The Kestrane Probe is rated {v}",
  q="What ingress protection rating does the Kestrane Probe have?",
  t=["What IP rating is the Kestrane Probe?", "How is the probe rated against water and dust?"],
  h=["Which protection class tells me the sensor survives being hosed down?", "The probe's dust and water resistance code is what?"])

doc("pelloway-dock", "Pelloway Dock", "product", """\
# Pelloway Dock

The Pelloway Dock (model {dock_model}) is a combined charging cradle and radio
relay. It solves two problems at once for long glasshouses: keeping spare probe
batteries topped up, and reaching probes that sit too far from the Skerrow Hub.

## Charging

The dock has {dock_slots} for Kestrane Probe battery packs. An empty pack is full
again in {dock_charge_time}. A small indicator above each slot glows while the
pack is charging and switches off when it is done.

## Relaying

Placed midway down a greenhouse, the dock repeats Skeinlink traffic between
probes and the hub. It extends coverage by up to {dock_relay_range} in open
space. Probes choose the dock automatically when their direct link to the hub is
weak; no configuration is needed.

## Setup

1. Mount the dock on a post or wall at roughly crop height.
2. Connect the supplied mains adapter.
3. Open Loomwright and add the dock from the devices page using the code on its
   label.

The dock receives firmware updates through the hub in the same way probes do.
""", body_v2="""\
# Pelloway Dock End-of-Life Notice

The Pelloway Dock (model {dock_model}) has been discontinued. We have stopped
manufacturing it because the Skerrow Hub now reaches more probes directly and
most customers no longer need a relay.

## Key dates

- **Last order date:** {dock_last_order}. After this date the dock is no longer
  sold in the web shop or through partners.
- **End of support:** {dock_support_end}. Until then we continue to ship
  firmware fixes and repair units under warranty.

## What this means for you

Docks that are already installed keep working. They will continue to relay
Skeinlink traffic and charge battery packs after support ends, but they will not
receive further updates, and we cannot guarantee spare parts.

If you want to retire your docks, contact support. Customers who return a
working dock receive a migration coupon worth {dock_coupon}, usable on a Skerrow
Hub or Kestrane Probes.

Specifications for the dock are no longer published. Existing customers can ask
support for the original data sheet.
""", title_v2="Pelloway Dock End-of-Life Notice")

F("dock_model", "pelloway-dock", "PD-2",
  style="The Pelloway Dock's model number is {v}",
  q="What is the model number of the Pelloway Dock?",
  t=["Which model code does the Pelloway Dock have?", "What model designation is the dock sold under?"],
  h=["The charging relay cradle is identified by what model?", "If I look up the relay dock, which code identifies it?"])
F("dock_slots", "pelloway-dock", "6 charging slots", None, a=["6 slots", "six charging slots", "6"],
  style="The Pelloway Dock has {v} for probe battery packs",
  q="How many battery packs can the Pelloway Dock charge at once?",
  t=["How many charging slots does the Pelloway Dock have?", "What is the battery pack capacity of the dock?"],
  h=["Simultaneously, how many probe packs fit in the relay cradle?", "Count of places to charge packs on the dock?"])
F("dock_charge_time", "pelloway-dock", "3 hours 20 minutes", None, a=["3h20", "3 h 20 min", "200 minutes"],
  style="An empty battery pack is fully charged in the Pelloway Dock in {v}",
  q="How long does the Pelloway Dock take to charge an empty battery pack?",
  t=["What is the charging time for a battery pack in the dock?", "How long until a flat pack is full in the Pelloway Dock?"],
  h=["If I put a drained probe pack into the cradle, when is it ready?", "Recharging a depleted pack on the relay takes how long?"])
F("dock_relay_range", "pelloway-dock", "310 metres", None, a=["310 m", "310 meters"],
  style="The Pelloway Dock extends coverage by up to {v} in open space",
  q="By how much does the Pelloway Dock extend radio coverage?",
  t=["What extra range does the dock add as a relay?", "How far does the Pelloway Dock extend the Skeinlink coverage?"],
  h=["Placing the relay midway gains how much additional reach?", "With a repeater cradle installed, coverage grows by what distance?"])
F("dock_last_order", "pelloway-dock", None, "30 April 2026", a2=["April 30, 2026", "2026-04-30"],
  style="The last order date for the Pelloway Dock is {v}",
  q="What is the last date the Pelloway Dock can be ordered?",
  t=["Until when can I still buy a Pelloway Dock?", "When does the Pelloway Dock stop being sold?"],
  h=["After which day will the relay cradle no longer be available for purchase?", "What's the final ordering deadline for the dock?"])
F("dock_support_end", "pelloway-dock", None, "31 January 2028", a2=["January 31, 2028", "2028-01-31"],
  style="Support for the Pelloway Dock ends on {v}",
  q="When does support for the Pelloway Dock end?",
  t=["What is the end-of-support date for the Pelloway Dock?", "Until what date will Tessavik support the dock?"],
  h=["Firmware fixes and warranty repairs for the relay cradle stop on which day?", "How long will the discontinued dock keep being serviced?"])
F("dock_coupon", "pelloway-dock", None, "25.00 EUR", a2=["25 EUR", "EUR 25.00", "25.00"],
  style="Returning a working Pelloway Dock earns a migration coupon worth {v}",
  q="How much is the migration coupon for returning a Pelloway Dock worth?",
  t=["What coupon value do I get for sending back my Pelloway Dock?", "How much credit does returning a working dock earn?"],
  h=["If I retire my relay cradle and post it back, what's it worth toward new kit?", "The migration offer for old docks gives what amount?"])

doc("loomwright-dashboard", "Loomwright Dashboard", "product", """\
# Loomwright Dashboard

Loomwright is the web dashboard for everything your hubs and probes measure. It
runs in any current browser and needs no installation. Readings arrive within
seconds of leaving a hub, and open charts refresh every {lw_refresh} without a
page reload.

## Organising a site

Probes are grouped into boughs, and each view of a site is a stave: a page of
charts, maps and status tiles that you arrange yourself. A small nursery might
have one stave; a research station might have dozens, one per trial.

## Notes and annotations

Anyone on the account can pin a note to a point in time on a chart, such as
"vents opened" or "new substrate". Notes are limited to {lw_note_chars} each and
appear for every user who opens the same chart.

## Site maps

Upload a floor plan of your greenhouse and drag probes onto it. The map colours
each probe by its latest reading. A stave can hold up to {lw_map_layers}, which is
enough for separate benches, beds and heating circuits.

## Access from the field

Loomwright works on phone browsers, with a simplified layout that shows the
latest values and any open alerts first. Plans, prices and the number of users
each plan includes are listed on the Loomwright pricing page.
""")

F("lw_refresh", "loomwright-dashboard", "45 seconds", a=["45 s", "forty-five seconds"],
  style="Open Loomwright charts refresh every {v}",
  q="How often do Loomwright charts refresh automatically?",
  t=["What is the auto-refresh interval of Loomwright charts?", "How frequently does an open Loomwright chart update?"],
  h=["Without reloading the page, the dashboard graphs redraw at what interval?", "A chart left open in the browser picks up new data how often?"])
F("lw_note_chars", "loomwright-dashboard", "280 characters", a=["280"],
  style="Loomwright chart notes are limited to {v} each",
  q="What is the maximum length of a note pinned to a Loomwright chart?",
  t=["How long can a chart annotation be in Loomwright?", "What's the character limit for Loomwright notes?"],
  h=["An annotation such as 'vents opened' may contain at most how many characters?", "How much text fits in one note on a graph?"])
F("lw_map_layers", "loomwright-dashboard", "9 map layers", a=["9 layers", "nine map layers", "9"],
  style="A Loomwright stave can hold up to {v}",
  q="How many map layers can a Loomwright stave hold?",
  t=["What is the limit on site map layers per stave?", "How many floor-plan layers are allowed on one stave?"],
  h=["For separate benches and heating circuits, what is the maximum count of map overlays on a page?", "One dashboard page supports at most how many map layers?"])

doc("fennick-cli", "Fennick CLI", "product", """\
# Fennick CLI

Fennick is the command-line companion to Loomwright. Research groups and larger
growers use it to script bulk jobs that would be tedious in a browser: moving
probes between boughs, pulling months of readings, or pushing calibration files
to hundreds of probes at once.

Fennick needs {cli_python} or newer and runs on Linux, macOS and Windows.

## Configuration

On first run Fennick creates a profile file at `{cli_config}`. It holds your API
token and the default bough. Several profiles can live in the same file, which
is handy if you manage more than one Loomwright account.

## Common commands

- `fennick pull` downloads readings for a bough and date range.
- `{cli_push_cal}` uploads a calibration file to one probe or a whole bough.
- `fennick hub status` prints the health of every hub on the account.

## Limits

A single upload, whether a calibration bundle or an import of historical
readings, may be at most {cli_max_upload}. Larger imports should be split into
several files. Fennick uses the public Loomwright API, so the API rate limit
applies to it as well.
""")

F("cli_python", "fennick-cli", "Python 3.10", a=["3.10"],
  style="Fennick needs {v} or newer",
  q="Which Python version does the Fennick CLI require at minimum?",
  t=["What is the minimum Python version for Fennick?", "Which Python release must be installed to run Fennick?"],
  h=["To use the command-line tool, how new must my Python be?", "Fennick won't run on Python older than which version?"])
F("cli_config", "fennick-cli", "~/.fennick/profile.ini", a=[".fennick/profile.ini", "profile.ini"],
  style="Fennick stores its profile at {v}",
  q="Where does Fennick store its configuration profile?",
  t=["What is the path of the Fennick profile file?", "Which file holds the Fennick API token and default bough?"],
  h=["On first launch, the command-line tool writes its settings to what location?", "Where on disk would I find my Fennick credentials?"])
F("cli_push_cal", "fennick-cli", "fennick push-cal", a=["push-cal"],
  style="Calibration files are uploaded with the {v} command",
  q="Which Fennick command uploads a calibration file to probes?",
  t=["How do I push calibration data to a bough with Fennick?", "What is the Fennick command for sending calibration files?"],
  h=["To send a calibration file to hundreds of probes from the terminal, what do I type?", "Name the CLI subcommand that distributes calibration bundles."])
F("cli_max_upload", "fennick-cli", "350 MB", "480 MB", a=["350 megabytes", "350MB"], a2=["480 megabytes", "480MB"],
  style="A single Fennick upload may be at most {v}",
  q="What is the maximum size of a single Fennick upload?",
  t=["How large can one upload through Fennick be?", "What's the file size limit for Fennick imports?"],
  h=["Before I must split a historical import into pieces, how big may a file be?", "One calibration bundle or data import is capped at what size?"])

doc("halvard-care", "Halvard Care Support Plan", "product", """\
# Halvard Care Support Plan

Halvard Care is our paid support contract for customers who cannot afford a
silent greenhouse. It covers every hub and probe registered under the contract
and adds three things on top of our normal support.

## Faster answers

Tickets from Halvard Care customers go to the front of the queue. We respond
within {hc_response}, measured during the support hours listed on the support
hours page.

## Advance replacement

If a covered device fails, we ship a replacement before you send the faulty one
back. The replacement leaves Ulvmora within {hc_replacement} of our engineer
confirming the fault. You then have a month to return the broken unit.

## Annual health check

Once a year an engineer reviews your site remotely: signal quality, battery
trends, calibration age and firmware versions. You receive a short written report
with recommendations.

## Terms

Contracts can be bought for one year at a time or prepaid for up to {hc_max_term}.
Devices can be added during the term; they are charged pro rata. Prices are on
the Halvard Care pricing page.
""")

F("hc_response", "halvard-care", "6 business hours", "4 business hours", a=["6 hours", "six business hours"],
  a2=["4 hours", "four business hours"],
  style="Halvard Care tickets receive a response within {v}",
  q="How quickly does Tessavik respond to Halvard Care tickets?",
  t=["What is the response time under Halvard Care?", "Within how many business hours are Halvard Care tickets answered?"],
  h=["If I hold the paid support contract, when will my ticket get a reply?", "Customers on the premium support plan hear back in how long?"])
F("hc_replacement", "halvard-care", "3 working days", a=["three working days", "3 days"],
  style="A Halvard Care advance replacement leaves Ulvmora within {v} of the fault being confirmed",
  q="How soon is an advance replacement shipped under Halvard Care?",
  t=["Within how many days does a Halvard Care replacement device leave the warehouse?", "How fast is the advance replacement dispatched?"],
  h=["Once an engineer confirms my hub is broken, when does the new unit go out?", "After a confirmed fault, how long until the swap device is sent?"])
F("hc_max_term", "halvard-care", "4 years", a=["four years"],
  style="Halvard Care can be prepaid for up to {v}",
  q="What is the longest term Halvard Care can be prepaid for?",
  t=["For how many years can I prepay Halvard Care?", "What's the maximum contract length for Halvard Care?"],
  h=["How far ahead may a support contract be paid in one go?", "The premium support plan can be bought for at most how long?"])

doc("virelle-tag", "Virelle Tag", "product", "", v1=False, body_v2="""\
# Virelle Tag

The Virelle Tag is the newest member of the Tessavik family: a coin-sized sensor
for the places a Kestrane Probe is too big for. Stick it to a vent flap, a cellar
door or the lid of a seed cabinet and it reports opening, closing and tilt, along
with the temperature at that spot.

## Why a tag?

Growers told us that many problems start with something being open that should
be shut. The tag watches those openings so Loomwright can warn you before the
temperature chart does.

## Specifications

- Battery life: about {tag_battery} on its replaceable cell.
- Connects to a Skerrow Hub over Skeinlink; one hub accepts up to {tag_per_hub}
  in addition to its probes.
- Adhesive mount plus an optional screw plate.
- Firmware line: {tag_fw_codename}.

## Price and warranty

The Virelle Tag costs {tag_price} including VAT, and is covered by a warranty of
{tag_warranty}. Tags ordered together with a hub ship in the same parcel.

## Getting started

Pairing works exactly like a probe: open the pairing window on the hub and press
the button on the back of the tag. It appears in Loomwright within a minute and
can be placed in any bough.
""")

F("tag_battery", "virelle-tag", None, "31 months", a2=["thirty-one months"],
  style="The Virelle Tag battery lasts about {v}",
  q="How long does the Virelle Tag battery last?",
  t=["What is the battery life of the Virelle Tag?", "How many months does a Virelle Tag run on one cell?"],
  h=["The coin-sized door and vent sensor needs a new cell after how long?", "Expected runtime of the tag's replaceable battery?"])
F("tag_per_hub", "virelle-tag", None, "20 tags", a2=["20", "twenty tags"],
  style="One Skerrow Hub accepts up to {v} in addition to its probes",
  q="How many Virelle Tags can one Skerrow Hub accept?",
  t=["What is the maximum number of Virelle Tags per hub?", "How many tags can be paired to a single hub?"],
  h=["Besides probes, a gateway takes at most how many of the new coin sensors?", "Is there a limit on vent tags per gateway, and what is it?"])
F("tag_fw_codename", "virelle-tag", None, "Osprel-1",
  style="The Virelle Tag runs the {v} firmware line",
  q="What is the firmware codename of the Virelle Tag?",
  t=["Which firmware line does the Virelle Tag use?", "What is the Virelle Tag's firmware called?"],
  h=["The new door sensor's software goes by what codename?", "Name the firmware family running on the coin-sized tag."])
F("tag_price", "virelle-tag", None, "27.60 EUR", a2=["27.60", "EUR 27.60"], also_v2=["pricing-hardware"],
  style="The Virelle Tag costs {v} including VAT",
  q="How much does the Virelle Tag cost?",
  t=["What is the price of a Virelle Tag?", "What does Tessavik charge for one Virelle Tag?"],
  h=["To buy the coin-sized opening sensor, how much will I pay?", "The new tag sells for what amount?"])
F("tag_warranty", "virelle-tag", None, "20 months", a2=["twenty months"],
  style="The Virelle Tag is covered by a warranty of {v}",
  q="How long is the warranty on the Virelle Tag?",
  t=["What warranty period applies to the Virelle Tag?", "For how many months is a Virelle Tag under warranty?"],
  h=["If the new vent sensor fails, how long am I covered?", "Guarantee length for the coin-sized tag?"])

# ===========================================================================
# HOW-TO GUIDES
# ===========================================================================
doc("skerrow-hub-installation", "Installing the Skerrow Hub", "howto", """\
# Installing the Skerrow Hub

This guide takes you from a sealed box to a hub that is online and ready for
probes. Allow half an hour, most of which is finding the right spot.

## 1. Choose the position

Radio range is best when the hub can "see" down the length of the greenhouse.

- Mount the hub at least {install_height} above the floor, higher if crops are
  tall.
- Keep it at least {install_metal_gap} away from metal shelving, tanks and
  heating pipes, which reflect and absorb the signal.
- Make sure an Ethernet cable can reach it. The LTE fallback is a backup, not a
  primary connection.

## 2. Mount and connect

Fix the wall bracket with the two screws supplied, click the hub onto it and
connect the Ethernet cable and the power adapter. The status light blinks white
while the hub starts.

## 3. First start

The first start takes about {install_first_boot}, because the hub downloads the
latest firmware before anything else. Do not unplug it during this time. When
the light turns steady green, the hub is online.

## 4. Claim the hub

In Loomwright, open the devices page, choose "Add hub" and type the claim code
printed under the barcode label. The hub appears in your account straight away
and is ready for pairing probes.
""")

F("install_height", "skerrow-hub-installation", "1.6 metres", a=["1.6 m", "1.6 meters"],
  style="The Skerrow Hub should be mounted at least {v} above the floor",
  q="How high above the floor should the Skerrow Hub be mounted?",
  t=["What is the minimum mounting height for the hub?", "At what height should I install the Skerrow Hub?"],
  h=["When putting the gateway on the wall, how far off the ground must it be at least?", "Minimum elevation for placing the hub?"])
F("install_metal_gap", "skerrow-hub-installation", "35 cm", a=["35 centimetres", "35 centimeters"],
  style="Keep the Skerrow Hub at least {v} away from metal shelving, tanks and heating pipes",
  q="How far should the Skerrow Hub be kept from metal shelving?",
  t=["What clearance from metal objects does the hub need?", "How much distance should separate the hub from heating pipes and tanks?"],
  h=["To avoid signal reflections, what gap do I leave between the gateway and metal racks?", "Minimum spacing between hub and metalwork?"])
F("install_first_boot", "skerrow-hub-installation", "9 minutes", a=["nine minutes"],
  style="The Skerrow Hub's first start takes about {v}",
  q="How long does the Skerrow Hub's first start take?",
  t=["How many minutes does initial boot of a new hub last?", "How long should I wait when a hub starts for the first time?"],
  h=["A brand-new gateway downloads firmware on first power-up; how long is that?", "Out of the box, when will the hub finish starting up?"])

doc("kestrane-probe-calibration", "Calibrating a Kestrane Probe", "howto", """\
# Calibrating a Kestrane Probe

Humidity sensors drift slowly as they age. A quick salt calibration brings a
probe back in line, and you can do it on a kitchen table.

**How often:** we recommend recalibrating each probe every {cal_interval}.
Loomwright shows the date of the last calibration on each probe's detail page and
flags probes that are overdue.

## What you need

- A calibration salt kit (sold in our shop) containing a jar of saturated
  {cal_salt} solution.
- A sealable container big enough for the probe head.
- Fennick, or a browser with Loomwright open.

## Steps

1. Place the probe head in the sealed container above the salt solution, without
   touching the liquid.
2. Wait at least {cal_wait} so the air inside settles at the reference humidity.
3. In Loomwright, open the probe and choose "Calibrate". Pick the salt from the
   list; Loomwright knows its reference value at the current temperature.
4. Confirm. The probe stores the new offset and reports it back to the hub.

Calibrating a whole bough at once is faster with Fennick, which can send one
calibration file to many probes.

## Tips

Do not calibrate in direct sunlight or next to a heater: temperature changes
during the wait spoil the reference.
""")

F("cal_interval", "kestrane-probe-calibration", "11 months", a=["eleven months"],
  style="Each Kestrane Probe should be recalibrated every {v}",
  q="How often should a Kestrane Probe be recalibrated?",
  t=["What is the recommended calibration interval for probes?", "After how many months is a probe due for calibration?"],
  h=["To keep humidity readings accurate, at what frequency should I redo the salt procedure?", "Suggested time between calibrations of a sensor?"])
F("cal_salt", "kestrane-probe-calibration", "magnesium nitrate",
  style="The calibration salt kit contains a saturated {v} solution",
  q="Which salt solution is used to calibrate a Kestrane Probe?",
  t=["What salt does the calibration kit contain?", "Which chemical is in the Tessavik calibration jar?"],
  h=["The reference humidity during calibration comes from a saturated solution of what?", "Name the compound in the salt kit."])
F("cal_wait", "kestrane-probe-calibration", "50 minutes", a=["fifty minutes"],
  style="Wait at least {v} for the air to settle before calibrating",
  q="How long must the probe sit over the salt solution before calibrating?",
  t=["What is the settling time during probe calibration?", "How many minutes should I wait before pressing Calibrate?"],
  h=["Inside the sealed container, how long does the air need to stabilise?", "Minimum waiting period before confirming the calibration?"])

doc("pairing-probes", "Pairing Probes with a Hub", "howto", """\
# Pairing Probes with a Hub

A new probe has to be introduced to a hub once. After that it reconnects on its
own, even after a battery change.

## Before you start

Make sure the hub is online (steady green light) and that the probe has a
charged battery fitted. Pairing works best with the probe within a few metres of
the hub; you can move it to its final spot afterwards.

## Pairing step by step

1. In Loomwright, open the hub and click "Pair probes". This opens a pairing
   window on the hub, which stays open for {pair_window}.
2. Hold the button on the probe for {pair_hold} until its light blinks
   {pair_led}.
3. The probe appears in the list in Loomwright. Give it a name and choose a bough.
4. Repeat for further probes while the window is still open, or click "Pair
   probes" again.

## If the probe does not appear

- Check that the light really blinked in the pairing colour. A white blink means
  the button was released too early.
- Bring the probe closer to the hub and try again.
- A probe can only belong to one hub. If it was used elsewhere, remove it from
  the old hub in Loomwright first.
""")

F("pair_window", "pairing-probes", "110 seconds", a=["110 s"],
  style="The hub's pairing window stays open for {v}",
  q="How long does the hub's pairing window stay open?",
  t=["For how many seconds is the pairing window open?", "How long do I have to pair probes after clicking Pair probes?"],
  h=["Once pairing mode starts on the gateway, when does it close again?", "Time available to add sensors after opening pairing?"])
F("pair_hold", "pairing-probes", "6 seconds", a=["six seconds"],
  style="Hold the probe's button for {v} to pair it",
  q="How long must I hold the probe's button to pair it?",
  t=["For how many seconds do I press the probe button during pairing?", "What button hold time starts pairing on a probe?"],
  h=["To put a sensor into pairing mode, how long should the button stay pressed?", "Pairing a probe requires pressing its button for what duration?"])
F("pair_led", "pairing-probes", "violet", a=["purple"],
  style="A probe's light blinks {v} when it enters pairing mode",
  q="What colour does the probe's light blink when it is pairing?",
  t=["Which LED colour shows a probe is in pairing mode?", "How does the probe light look when pairing works?"],
  h=["When I hold the button long enough, the sensor's lamp flashes which colour?", "The pairing indicator on the probe is what colour?"])

doc("firmware-update-guide", "Updating Firmware", "howto", """\
# Updating Firmware

Hubs and probes update themselves. Most customers never need to think about
firmware, but it helps to know what happens and when.

## When updates run

A hub checks for new firmware once a day and installs it at {fw_install_time}
local time, when greenhouses are usually quiet. The hub restarts, which takes
under a minute; probes keep measuring and the hub catches up from their memory.

Probes are updated by their hub after the hub itself is up to date. To protect
the battery, a probe is only updated if its battery is above {fw_min_battery}.
Probes below that level are skipped and tried again the next night.

## Updating by hand

If you do not want to wait, open the hub in Loomwright and click "Update now", or
run `fennick hub update` for every hub on the account.

## Rolling back

If a release causes trouble, support can roll a hub back to any of the previous
{fw_rollback_count}. Contact support with the hub's model and serial number.

## What changed?

Each release is described in the firmware release notes, including the version
number and the fixes it contains.
""")

F("fw_install_time", "firmware-update-guide", "03:10", a=["3:10", "03:10 local time", "3:10 am"],
  style="The hub installs new firmware at {v} local time",
  q="At what time of night does the hub install firmware updates?",
  t=["When are automatic firmware updates installed on the hub?", "What local time do hubs apply new firmware?"],
  h=["Automatic gateway updates happen at which hour?", "If I leave updates on automatic, what clock time do they run?"])
F("fw_min_battery", "firmware-update-guide", "35%", a=["35 percent", "35 per cent"],
  style="A probe is only updated if its battery is above {v}",
  q="What battery level does a probe need before a firmware update?",
  t=["What is the minimum battery charge for probe firmware updates?", "Below what battery level are probes skipped during updates?"],
  h=["How full must a sensor's battery be for the hub to update it?", "Probes with less than which charge are left out of an update?"])
F("fw_rollback_count", "firmware-update-guide", "3 releases", a=["three releases", "3"],
  style="Support can roll a hub back to any of the previous {v}",
  q="How many previous firmware releases can support roll a hub back to?",
  t=["How far back can a hub's firmware be rolled back?", "To how many earlier releases can a hub be downgraded?"],
  h=["If a new version misbehaves, how many older ones can support restore?", "Rollback is possible across how many prior versions?"])

doc("exporting-data", "Exporting Your Data", "howto", """\
# Exporting Your Data

Your readings belong to you. Loomwright can export them at any time, in full,
without contacting us.

## From the dashboard

1. Open a stave or a bough and choose "Export".
2. Pick a date range and the probes you want.
3. Choose a format: CSV, Parquet or {export_third_format}. CSV opens in any
   spreadsheet; Parquet is compact and fast for analysis tools; the third option
   suits climate researchers who already work with gridded data.
4. Click "Prepare". Large exports are built in the background and you receive an
   email with a download link when the file is ready.

Download links expire after {export_link_hours}. After that, simply prepare the
export again.

## Size limits

A single CSV export holds at most {export_max_rows}. If your selection is bigger,
Loomwright splits it into several numbered files inside one archive. Parquet and
the third format have no row limit.

## Exporting from the command line

`fennick pull` writes the same formats and is easier to schedule, for example as a
nightly job that copies the previous day's readings into your own storage.
""")

F("export_third_format", "exporting-data", "NetCDF",
  style="Besides CSV and Parquet, Loomwright can export data as {v}",
  q="Besides CSV and Parquet, what export format does Loomwright offer?",
  t=["What is the third data export format in Loomwright?", "Which format other than CSV and Parquet can I export readings in?"],
  h=["Climate researchers can download their measurements in which additional file type?", "Apart from spreadsheet-friendly and Parquet files, what export option exists?"])
F("export_link_hours", "exporting-data", "36 hours", a=["36 h"],
  style="Export download links expire after {v}",
  q="How long are export download links valid?",
  t=["When does an export download link expire?", "For how many hours can I use the export link?"],
  h=["The emailed link to my prepared file stops working after what time?", "Validity period of a data-export download URL?"])
F("export_max_rows", "exporting-data", "250,000 rows", "400,000 rows", a=["250000 rows", "250,000"],
  a2=["400000 rows", "400,000"],
  style="A single CSV export holds at most {v}",
  q="What is the maximum number of rows in a single CSV export?",
  t=["How many rows can one CSV export contain?", "What's the row limit on CSV exports from Loomwright?"],
  h=["Before Loomwright splits a spreadsheet download into several files, how many lines can it have?", "One exported CSV file is capped at how many records?"])

doc("api-quickstart", "Loomwright API Quickstart", "howto", """\
# Loomwright API Quickstart

The Loomwright API gives programs the same access to readings, probes and
alerts that you have in the dashboard. This page gets you from nothing to a first
successful request.

## Base address

All endpoints live under `{api_base}`. Requests and responses use JSON and UTF-8.

## Getting a token

Create a token under Settings, API access. Tokens are tied to a user, inherit
that user's permissions and expire {api_token_life} after they are issued. A new
token can be created at any time; old ones keep working until they expire or are
revoked.

Send the token in the `Authorization` header with the word `Bearer` in front.

## Your first request

Ask for the list of hubs on your account with a GET request to `/hubs`. The
response lists each hub with its serial number, firmware version and the time it
was last heard from.

## Rate limits

Each token may make up to {api_rate_limit}. Requests above the limit are
rejected with error code `{api_rate_error}` and a hint telling you how many
seconds to wait. Fennick respects the same limit and slows down automatically.

## Where next

The full endpoint reference is linked from the Settings page. For bulk downloads,
prefer the export feature or `fennick pull` over paging through the API.
""")

F("api_base", "api-quickstart", "api.loomwright.example/v3", a=["https://api.loomwright.example/v3"],
  style="Loomwright API endpoints live under {v}",
  q="What is the base address of the Loomwright API?",
  t=["Which URL do Loomwright API endpoints start with?", "What host and path prefix does the API use?"],
  h=["To call the dashboard's programming interface, what root address do I send requests to?", "Every endpoint sits beneath which base URL?"])
F("api_token_life", "api-quickstart", "14 hours", "10 hours", a=["14 h", "fourteen hours"], a2=["10 h", "ten hours"],
  style="Loomwright API tokens expire {v} after they are issued",
  q="How long is a Loomwright API token valid?",
  t=["When does an API token expire?", "What is the lifetime of a Loomwright API token?"],
  h=["After creating a key for programmatic access, how soon does it stop working?", "Tokens for the interface last for what duration?"])
F("api_rate_limit", "api-quickstart", "90 requests per minute", "150 requests per minute",
  a=["90 requests/minute", "90 per minute"], a2=["150 requests/minute", "150 per minute"],
  style="Each Loomwright API token may make up to {v}",
  q="What is the Loomwright API rate limit per token?",
  t=["How many API requests per minute are allowed?", "What request rate can one API token sustain?"],
  h=["Before calls get rejected, how fast may a single key hit the interface?", "The throttling threshold for each token is what?"])
F("api_rate_error", "api-quickstart", "LW-4417",
  style="Requests above the rate limit are rejected with error code {v}",
  q="What error code does the API return when the rate limit is exceeded?",
  t=["Which error code signals too many API requests?", "What code do I get when I hit the Loomwright rate limit?"],
  h=["Sending calls too quickly produces which rejection code?", "The throttling response carries what identifier?"])

doc("resetting-the-hub", "Resetting the Skerrow Hub", "howto", """\
# Resetting the Skerrow Hub

There are two kinds of reset. Try the gentle one first.

## Restart

A restart keeps all settings and paired probes. Either click "Restart" on the hub
page in Loomwright, run `fennick hub reboot`, or unplug the power adapter for
{restart_unplug}. Buffered readings are kept.

## Factory reset

A factory reset erases the hub's settings, its list of paired probes and any
readings still waiting in its buffer. Use it only when support asks you to, or
before giving the hub to someone else.

1. Make sure the hub is powered.
2. Press and hold the recessed reset button on the underside for {reset_hold}.
3. Release the button when the status light starts pulsing {reset_led}.
4. Wait for the light to turn steady green. The hub is now as it left the
   factory and must be claimed again in Loomwright.

After a factory reset, every probe has to be paired again. The probes themselves
keep their calibration, so you do not need to recalibrate them.

## Removing a hub from your account

If you are selling or giving away a hub, also remove it from your account in
Loomwright, otherwise the new owner cannot claim it.
""")

F("reset_hold", "resetting-the-hub", "11 seconds", a=["eleven seconds"],
  style="For a factory reset, hold the hub's reset button for {v}",
  q="How long must the reset button be held for a factory reset of the hub?",
  t=["For how many seconds do I hold the reset button to factory reset the Skerrow Hub?", "What hold time triggers a hub factory reset?"],
  h=["To wipe the gateway back to its out-of-box state, how long do I press the recessed button?", "The recessed button needs pressing for what duration to erase everything?"])
F("restart_unplug", "resetting-the-hub", "ten seconds", a=["10 seconds"],
  style="To restart the hub by hand, unplug the power adapter for {v}",
  q="How long should the hub's power adapter be unplugged to restart it?",
  t=["For a simple restart, how long do I disconnect the hub's power?", "How many seconds must the hub be without power for a manual restart?"],
  h=["If I reboot the gateway by pulling the plug, when can I plug it back in?", "Duration the adapter stays out when power-cycling the hub?"])
F("reset_led", "resetting-the-hub", "turquoise",
  style="During a factory reset the hub's status light pulses {v}",
  q="What colour does the hub's status light pulse during a factory reset?",
  t=["Which light colour tells me to release the reset button?", "How does the status light look when a factory reset starts?"],
  h=["When wiping the gateway, what colour signals I can let go of the button?", "The pulsing lamp during a full reset is which colour?"])

doc("alerts-and-notifications", "Alerts and Notifications", "howto", """\
# Alerts and Notifications

Alerts turn readings into action. An alert rule watches one value on one probe,
or on every probe in a bough, and notifies people when it goes out of range.

## Creating a rule

1. Open a probe or bough and choose "New alert".
2. Pick the measurement and the limits, for example soil moisture below 18%.
3. Choose who is notified and how: email, SMS or both.

An account can hold up to {alert_max_rules}. Rules on a bough count once, however
many probes the bough contains, so grouping probes is the easiest way to stay
under the limit.

## Escalation

If nobody acknowledges an alert, it escalates to the next person on the list
after {alert_escalation}. The chain can be as long as you like; the last person
keeps receiving reminders until someone responds.

## SMS credits

Email notifications are unlimited. Each account receives {sms_credits} per month
for text messages; one message uses one credit. Unused credits do not roll over.
Extra credits can be bought in packs from the billing page.

## Quiet hours

Each user can set quiet hours during which only critical alerts are delivered.
An alert that clears itself before anyone acknowledges it is recorded as a lapse.
""")

F("alert_max_rules", "alerts-and-notifications", "40 alert rules", "64 alert rules", a=["40 rules", "40"],
  a2=["64 rules", "64"],
  style="A Loomwright account can hold up to {v}",
  q="How many alert rules can a Loomwright account have?",
  t=["What is the maximum number of alert rules per account?", "How many alerts can I set up in Loomwright?"],
  h=["Is there a ceiling on monitoring rules for one account, and what is it?", "Up to how many threshold rules may an account define?"])
F("alert_escalation", "alerts-and-notifications", "12 minutes", a=["twelve minutes"],
  style="An unacknowledged alert escalates to the next person after {v}",
  q="After how long does an unacknowledged alert escalate?",
  t=["How long before an alert is passed to the next person?", "What is the escalation delay for alerts?"],
  h=["If nobody responds to a notification, when does the next contact get it?", "Time before an ignored warning moves down the chain?"])
F("sms_credits", "alerts-and-notifications", "150 SMS credits", "175 SMS credits", a=["150 credits", "150"],
  a2=["175 credits", "175"],
  style="Each account receives {v} per month for text messages",
  q="How many SMS credits does an account get per month?",
  t=["What is the monthly SMS allowance?", "How many text message credits are included each month?"],
  h=["Every month, how many texts can alerts send before I must buy more?", "The free monthly quota of SMS notifications is how many?"])

doc("troubleshooting-connectivity", "Troubleshooting Connectivity", "howto", """\
# Troubleshooting Connectivity

Most connection problems fall into two groups: the hub cannot reach Loomwright,
or a probe cannot reach the hub. Work out which one you have first.

## The hub is offline

Look at the hub's status light.

| Light | Meaning |
|-------|---------|
| Steady green | Online over Ethernet |
| Slow green blink | Online over LTE fallback |
| Red double-blink | {trouble_red_meaning} |
| White blink | Starting up |

When the Ethernet link drops, the hub waits {lte_failover} before switching to
LTE, so that a brief cable hiccup does not trigger a switch. It returns to
Ethernet automatically once the cable works again.

If the light shows a red double-blink, check the cable, the router and any
firewall rules. The hub needs outbound access on the usual secure web port only.

## A probe is missing

In Loomwright, each probe shows its last signal strength. A probe whose signal
stays below {probe_rssi_min} will drop out from time to time. Move it closer to
the hub, lift it above the crop or remove metal from the path.

## Still stuck?

Contact support with the hub's serial number and a photo of the status light.
""")

F("trouble_red_meaning", "troubleshooting-connectivity", "no uplink available", a=["no uplink"],
  style="A red double-blink on the hub's status light means {v}",
  q="What does a red double-blink on the Skerrow Hub's status light mean?",
  t=["What is the hub telling me with a red double-blink?", "How should I read a red double-blinking status light?"],
  h=["The gateway lamp flashes red twice repeatedly; what's wrong?", "Meaning of two quick red flashes on the hub?"])
F("lte_failover", "troubleshooting-connectivity", "75 seconds", a=["75 s"],
  style="When Ethernet drops, the hub waits {v} before switching to LTE",
  q="How long does the hub wait before switching from Ethernet to LTE?",
  t=["What is the LTE failover delay on the Skerrow Hub?", "After losing Ethernet, when does the hub move to LTE?"],
  h=["If the cable connection dies, how much time passes before mobile data takes over?", "Delay before the gateway falls back to cellular?"])
F("probe_rssi_min", "troubleshooting-connectivity", "-108 dBm", a=["−108 dBm", "-108"],
  style="A probe whose signal stays below {v} will drop out from time to time",
  q="Below what signal strength does a probe start dropping out?",
  t=["What is the minimum reliable probe signal strength?", "Which dBm value marks a weak probe connection?"],
  h=["When the sensor's reception sits under what level, will it disconnect occasionally?", "Signal threshold under which probes become unreliable?"])

# ===========================================================================
# POLICIES
# ===========================================================================
doc("refund-policy", "Refund Policy", "policy", """\
# Refund Policy

We want you to be happy with what you bought. If you are not, this policy
explains how to get your money back.

## The refund window

You may request a refund for any hardware bought directly from Tessavik within
{refund_window} of delivery. The device must be complete, with its accessories,
but it does not need to be unused: trying a probe in your greenhouse is exactly
what the window is for.

Loomwright and Halvard Care subscriptions can be cancelled at any time. Unused
whole months are refunded; the current month is not.

## What cannot be refunded

{refund_exclusion} cannot be refunded once the seal has been broken, because the
reference solution cannot be checked after opening.

## How refunds are paid

Refunds go back to the original payment method. Once the returned item has been
inspected at Ulvmora, we process the refund within {refund_processing}. Your
bank may take a few more days to show it.

## Partners and resellers

If you bought through a partner, their own refund terms apply. Ask the partner
first; we will help if they cannot.

Returning a device for repair rather than a refund follows the returns and RMA
process instead.
""")

F("refund_window", "refund-policy", "23 days", "30 days", a=["23", "twenty-three days"], a2=["30", "thirty days"],
  style="Refunds for hardware can be requested within {v} of delivery",
  q="How many days do customers have to request a refund?",
  t=["What is the length of the refund window for hardware?", "Within how long after delivery can I ask for my money back?"],
  h=["If I want to send a device back for a refund, what is my deadline?", "Tessavik gives buyers how much time to claim a refund?"])
F("refund_exclusion", "refund-policy", "Calibration salt kits", a=["calibration kits", "salt kits"],
  style="{v} cannot be refunded once the seal has been broken",
  q="Which product cannot be refunded once its seal is broken?",
  t=["What item is excluded from refunds after opening?", "Which purchase is non-refundable once opened?"],
  h=["If I break the seal on something, what can I no longer get money back for?", "Name the product whose opened packaging voids the refund."])
F("refund_processing", "refund-policy", "8 business days", a=["eight business days", "8 days"],
  style="After inspection, refunds are processed within {v}",
  q="How long does Tessavik take to process a refund after inspecting the item?",
  t=["Within how many business days is a refund processed?", "What is the refund processing time?"],
  h=["Once the returned device has been checked at the warehouse, when is my money sent?", "After inspection, how quickly is the payment returned?"])

doc("warranty-policy", "Warranty Policy", "policy", """\
# Warranty Policy

Every Tessavik device comes with a manufacturer's warranty against defects in
materials and workmanship. The length depends on the product:

| Product | Warranty |
|---------|----------|
| Skerrow Hub | {warranty_hub} |
| Kestrane Probe | {warranty_probe} |
| Pelloway Dock | {warranty_dock} |
| Batteries and consumables | not covered |

The warranty starts on the delivery date shown on your invoice.

## What is covered

Faults that appear under normal use: a radio that stops working, a sensor that
fails, a housing seal that lets in water even though it was installed as
described. We repair or replace the device, at our choice.

## What is not covered

- Damage from lightning, flooding deeper than the rated protection, or fire.
- Devices opened or modified by anyone other than Tessavik.
- Normal wear of batteries and the adhesive on mounts.

## Making a claim

Submit a claim with {warranty_form}, available from the support pages, together
with the serial number and a description of the fault. Support will then issue
an RMA number and explain where to send the device.

A repaired or replacement device is covered for the rest of the original
warranty period.
""")

F("warranty_hub", "warranty-policy", "27 months", "33 months", a=["twenty-seven months"], a2=["thirty-three months"],
  style="The Skerrow Hub has a warranty of {v}",
  q="How long is the warranty on the Skerrow Hub?",
  t=["What warranty period does the Skerrow Hub come with?", "For how many months is the hub covered by warranty?"],
  h=["If my gateway develops a defect, how long am I protected?", "The manufacturer's guarantee on the hub lasts how long?"])
F("warranty_probe", "warranty-policy", "15 months", a=["fifteen months"],
  style="The Kestrane Probe has a warranty of {v}",
  q="How long is the warranty on the Kestrane Probe?",
  t=["What warranty period applies to Kestrane Probes?", "For how many months is a probe under warranty?"],
  h=["If a sensor fails, how long after delivery is it still covered?", "Guarantee length for the soil and air probe?"])
F("warranty_dock", "warranty-policy", "18 months", a=["eighteen months"],
  style="The Pelloway Dock has a warranty of {v}",
  q="How long is the warranty on the Pelloway Dock?",
  t=["What warranty does the Pelloway Dock have?", "For how many months is the dock covered?"],
  h=["The charging relay cradle is guaranteed for what period?", "If the relay unit breaks, how long does the manufacturer cover it?"])
F("warranty_form", "warranty-policy", "form W-7", a=["W-7"],
  style="Warranty claims are submitted with {v}",
  q="Which form is used to submit a warranty claim?",
  t=["What is the name of the warranty claim form?", "How do I file a warranty claim, which form?"],
  h=["To report a defect under guarantee, what document must I fill in?", "The paperwork for a warranty request is called what?"])

doc("support-hours", "Support Hours", "policy", """\
# Support Hours

Our support team works from Brolleby. All times are Central European Time and
follow daylight saving.

## Phone

Phone support is open Monday to Friday, {phone_hours}. Calls are answered by
the same people who handle email, so you will not be passed around.

## Chat

Chat in Loomwright follows the phone hours on weekdays. On Saturdays a smaller
team runs chat only, from {saturday_chat}. There is no chat on Sundays.

## Email and tickets

You can email or open a ticket at any time. We answer within {email_reply}
during the hours above. Halvard Care customers get a faster response, as
described in their contract.

## Outside these hours

Loomwright and the API keep running around the clock and are monitored by an
on-call engineer, who is paged automatically if the service fails. That engineer
does not answer customer calls, but outages are handled at any hour.

Planned maintenance is announced at least {maint_notice} ahead in Loomwright and by
email.
""")

F("phone_hours", "support-hours", "07:30 to 18:15 CET", "07:45 to 19:20 CET",
  a=["07:30-18:15 CET", "07:30 to 18:15", "7:30 to 18:15"], a2=["07:45-19:20 CET", "07:45 to 19:20", "7:45 to 19:20"],
  style="Phone support is open Monday to Friday, {v}",
  q="What are Tessavik's phone support hours?",
  t=["When is the support line open on weekdays?", "During which hours can I call Tessavik support?"],
  h=["If I need to ring the helpdesk on a Tuesday, between what times will someone pick up?", "Weekday opening times of the telephone helpdesk?"])
F("maint_notice", "support-hours", "three days", a=["3 days"],
  style="Planned maintenance is announced at least {v} ahead in Loomwright and by email",
  q="How far in advance is planned maintenance announced?",
  t=["How much notice do customers get before planned maintenance?", "How many days ahead does Tessavik announce maintenance?"],
  h=["Before scheduled downtime, how early will I be warned by email?", "Lead time for notices of upcoming service work?"])
F("saturday_chat", "support-hours", "10:00 to 14:00 CET", a=["10:00-14:00 CET", "10:00 to 14:00"],
  style="On Saturdays chat support runs from {v}",
  q="When is chat support available on Saturdays?",
  t=["What are the Saturday chat hours?", "During what hours can I chat with support on a Saturday?"],
  h=["At the weekend, which times does the reduced team answer chats?", "Is there Saturday chat, and between which times?"])
F("email_reply", "support-hours", "30 working hours", a=["30 hours"],
  style="Support answers emails and tickets within {v}",
  q="How quickly does support answer emails and tickets?",
  t=["What is the standard email response time?", "Within how long will a support ticket be answered?"],
  h=["Without a premium contract, when can I expect a reply to my written request?", "Normal turnaround for a ticket opened by email?"])

doc("data-retention-policy", "Data Retention Policy", "policy", """\
# Data Retention Policy

This policy sets out how long Loomwright keeps the different kinds of data it
holds, and what happens when you delete something.

## Sensor readings

- **Raw readings** (every individual measurement) are kept for {ret_raw}.
- **Hourly aggregates** (minimum, maximum and mean per hour) are kept for
  {ret_aggregates}, so long-term trends remain available after raw data has
  expired.

Export raw readings before they expire if you need them longer; see the
exporting guide.

## Account activity

Audit logs, which record sign-ins, changes to alert rules and API token use, are
kept for {ret_audit}.

## Deleting an account

When an account is closed, its data is first disabled and then permanently
purged {ret_deleted} later. Until the purge, the account can be restored by
contacting support.

## Backups

Encrypted backups are kept for {ret_backup} on a rolling basis. Deleted data
therefore disappears from backups at most that long after it is purged from the
live system.

## Legal holds

If the law requires us to keep specific data longer, for example invoices, we do
so only for that data and only for as long as required.
""")

F("ret_raw", "data-retention-policy", "400 days", "540 days", a=["400"], a2=["540"],
  style="Raw sensor readings are kept for {v}",
  q="How long does Loomwright keep raw sensor readings?",
  t=["What is the retention period for raw readings?", "For how many days are individual measurements stored?"],
  h=["Every single measurement stays available for how long before expiring?", "After what period is unaggregated data deleted?"])
F("ret_aggregates", "data-retention-policy", "6 years", a=["six years"],
  style="Hourly aggregates are kept for {v}",
  q="How long are hourly aggregates retained?",
  t=["What is the retention period for hourly aggregate data?", "For how many years are hourly min, max and mean values kept?"],
  h=["Long-term trend summaries per hour remain available for what length of time?", "The per-hour summary statistics are stored how long?"])
F("ret_audit", "data-retention-policy", "26 months", a=["twenty-six months"],
  style="Audit logs are kept for {v}",
  q="How long are audit logs kept?",
  t=["What is the retention period for audit logs?", "For how many months does Loomwright store sign-in and change logs?"],
  h=["Records of logins and alert rule edits survive for what period?", "The account activity trail is retained how long?"])
F("ret_deleted", "data-retention-policy", "45 days", "31 days", a=["45"], a2=["31"],
  style="A closed account's data is permanently purged {v} later",
  q="How long after an account is closed is its data permanently purged?",
  t=["When is data from a deleted account purged?", "How many days can a closed account still be restored?"],
  h=["If I shut down my account, after what delay is everything erased for good?", "The grace period before a removed account is wiped is how long?"])
F("ret_backup", "data-retention-policy", "9 days", "14 days", a=["nine days"], a2=["fourteen days"],
  style="Encrypted backups are kept for {v} on a rolling basis",
  q="How long are backups kept?",
  t=["What is the backup retention period?", "For how many days are encrypted backups stored?"],
  h=["Deleted data can linger in the rolling safety copies for how long?", "Retention of the encrypted backup copies?"])

doc("shipping-policy", "Shipping Policy", "policy", """\
# Shipping Policy

All orders ship from our logistics centre in Ulvmora.

## Dispatch

Orders placed on a working day before {ship_cutoff} leave the warehouse the same
day. Later orders go out the next working day. You receive a tracking link by
email as soon as the parcel is handed over.

## Carriers

Standard deliveries are carried by {ship_carrier}. Most addresses in the
Nordic countries receive their parcel in two to four working days, the rest of
Europe in three to six.

For urgent orders we offer express delivery with {express_carrier}, which costs a
flat {express_fee} per parcel regardless of weight and usually arrives the next
working day within the Nordic countries.

## Shipping costs

Standard shipping is free on orders of {ship_free} or more, after discounts.
Below that, the shipping cost is calculated at checkout from the weight and
destination.

## Damaged parcels

If a parcel arrives visibly damaged, note it with the driver if you can and send
us photos within a week. We will replace the contents; you do not need to wait for
the carrier's investigation.

## Customs

Deliveries outside the customs union may be charged import duties by the
destination country. These are paid by the recipient.
""")

F("ship_cutoff", "shipping-policy", "13:45 CET", "14:30 CET", a=["13:45"], a2=["14:30"],
  style="Orders placed on a working day before {v} leave the warehouse the same day",
  q="What is the same-day dispatch cutoff time for orders?",
  t=["By what time must I order for same-day dispatch?", "What is the daily order cutoff for shipping the same day?"],
  h=["If I want my parcel to leave Ulvmora today, when is the latest I can place the order?", "Orders before which hour go out that very day?"])
F("ship_carrier", "shipping-policy", "Fjellpost Freight", a=["Fjellpost"],
  style="Standard deliveries are carried by {v}",
  q="Which carrier handles Tessavik's standard deliveries?",
  t=["Who delivers standard Tessavik orders?", "What shipping company does Tessavik use for normal delivery?"],
  h=["A regular order is brought to my door by which courier firm?", "Name the freight company for non-express parcels."])
F("express_carrier", "shipping-policy", "Haskel Courier", a=["Haskel"],
  style="Express delivery is handled by {v}",
  q="Which courier handles express deliveries?",
  t=["Who carries Tessavik's express shipments?", "What company is used for express delivery?"],
  h=["For urgent next-day parcels, which firm does the delivering?", "The fast shipping option goes with what courier?"])
F("express_fee", "shipping-policy", "19.70 EUR", a=["19.70", "EUR 19.70"],
  style="Express delivery costs a flat {v} per parcel",
  q="How much does express delivery cost?",
  t=["What is the express shipping fee per parcel?", "What flat price does Tessavik charge for express shipping?"],
  h=["To get my order the next working day, what's the extra charge?", "Cost of the urgent courier option per package?"])
F("ship_free", "shipping-policy", "180 EUR", "240 EUR", a=["180", "EUR 180"], a2=["240", "EUR 240"],
  style="Standard shipping is free on orders of {v} or more",
  q="Above what order value is standard shipping free?",
  t=["What is the free shipping threshold?", "How much must I spend to get free standard delivery?"],
  h=["From which basket total does Tessavik stop charging for normal postage?", "Minimum order size that qualifies for no delivery charge?"])

doc("security-policy", "Security Policy", "policy", """\
# Security Policy

Greenhouse data may not sound sensitive, but it tells anyone reading it when a
site is empty, and a compromised hub could switch off someone's alerts. We take
security seriously and describe our main practices here.

## Accounts

- Loomwright passwords must be at least {password_min} long. We check new
  passwords against lists of known breached passwords.
- Two-step sign-in with an authenticator app is available to every user and
  can be made mandatory by account owners.
- API tokens are shown once, stored hashed and can be revoked at any time.

## Devices

Hubs only run firmware signed by Tessavik. Skeinlink traffic between probes and
hubs is encrypted, and every probe has its own key written at the factory.

## Testing

An external firm carries out a penetration test of Loomwright, the API and the
hub firmware {pentest_freq}. Findings are fixed according to severity, and a
summary is available to Halvard Care customers on request.

## Reporting a vulnerability

Please report security issues to {security_email}. We confirm receipt within
two working days and keep you informed until the issue is fixed. Our bug bounty
pays up to {bounty_max} for a valid report, depending on impact. Please do not
access other customers' data or disrupt the service while testing.
""")

F("password_min", "security-policy", "13 characters", "15 characters", a=["13"], a2=["15"],
  style="Loomwright passwords must be at least {v} long",
  q="What is the minimum password length for Loomwright?",
  t=["How long must a Loomwright password be?", "What's the shortest password Loomwright accepts?"],
  h=["When I choose a dashboard password, how many characters do I need at minimum?", "Passwords for the web account require at least how many characters?"])
F("pentest_freq", "security-policy", "every 7 months", a=["7 months", "every seven months"],
  style="An external penetration test is carried out {v}",
  q="How often is Loomwright penetration tested?",
  t=["What is the frequency of external penetration tests?", "How regularly does an outside firm test Tessavik's security?"],
  h=["At what interval do outside testers attack the dashboard, API and firmware?", "Pen tests of the platform happen how frequently?"])
F("security_email", "security-policy", "psirt@tessavik.example",
  style="Security issues should be reported to {v}",
  q="Where should security vulnerabilities be reported?",
  t=["What email address receives vulnerability reports?", "How do I report a security issue to Tessavik?"],
  h=["If I find a flaw in the platform, which mailbox do I notify?", "The contact for disclosing a weakness is what address?"])
F("bounty_max", "security-policy", "3,500 EUR", "5,200 EUR", a=["3500 EUR", "3,500", "3500"],
  a2=["5200 EUR", "5,200", "5200"],
  style="The bug bounty pays up to {v} for a valid report",
  q="What is the maximum bug bounty payout?",
  t=["How much can the bug bounty pay for a vulnerability?", "What is the top reward in Tessavik's bug bounty?"],
  h=["For a valid security finding, what's the most a researcher can earn?", "Highest amount paid out for reporting a flaw?"])

doc("privacy-policy", "Privacy Policy", "policy", """\
# Privacy Policy

This policy explains what personal data Tessavik processes, why, and what rights
you have. It covers our web shop, Loomwright and support.

## What we collect

- Account details: name, email address, company and billing address.
- Usage data: sign-ins, settings and the actions you take in Loomwright.
- Support conversations, including recordings of phone calls if you agree to it
  at the start of the call.

Sensor readings are not personal data in themselves, but we protect them in the
same way.

## Where it is stored

Loomwright and its backups are hosted in data centres inside the European
Union. We use {subprocessors}, each bound by a data processing agreement. The
current list, with the purpose of each, is available from the privacy page in
Loomwright.

## Your rights

You can ask to see, correct, export or delete your personal data. We answer such
requests within {privacy_response}. Requests can be made in Loomwright or by
writing to our data protection officer.

## Data protection officer

Our data protection officer is {dpo}, who can be reached through the general
contact address with "Privacy" in the subject line.

How long each kind of data is kept is described in the data retention policy.
""")

F("subprocessors", "privacy-policy", "7 sub-processors", "9 sub-processors", a=["7", "seven sub-processors"],
  a2=["9", "nine sub-processors"],
  style="Tessavik uses {v}, each bound by a data processing agreement",
  q="How many sub-processors does Tessavik use?",
  t=["What is the number of sub-processors handling Tessavik data?", "How many third-party processors does Tessavik rely on?"],
  h=["Counting external firms that process personal data for the company, how many are there?", "The data processing agreements cover how many outside processors?"])
F("privacy_response", "privacy-policy", "19 days", a=["nineteen days"],
  style="Privacy requests are answered within {v}",
  q="How quickly does Tessavik answer privacy requests?",
  t=["What is the response time for data access or deletion requests?", "Within how many days are privacy requests handled?"],
  h=["If I ask to see or erase my personal data, when will I get an answer?", "Turnaround for a data-subject request?"])
F("dpo", "privacy-policy", "Maelis Orrberg", "Tobiah Quennel", a=["Orrberg"], a2=["Quennel"],
  style="Tessavik's data protection officer is {v}",
  q="Who is Tessavik's data protection officer?",
  t=["What is the name of the data protection officer?", "Who handles data protection at Tessavik?"],
  h=["Privacy questions are ultimately the responsibility of which named person?", "Name the officer in charge of personal-data protection."])

doc("acceptable-use-policy", "Acceptable Use Policy", "policy", """\
# Acceptable Use Policy

Loomwright is shared infrastructure. These rules keep it fast and safe for
everyone. By using Loomwright or the API you agree to them.

## You may not

- Use the service to store or share material unrelated to monitoring, such as
  general file hosting.
- Attempt to access another customer's account, data or devices.
- Probe, scan or load-test the service without written permission (security
  research under our vulnerability reporting route is welcome).
- Resell access to Loomwright unless you are a registered partner.

## Sharing links

Public share links let you show a stave to someone without an account. Each
account may have at most {share_links} active at once. Share links are
read-only and can be revoked at any time.

## Automated access

Scripts must use the documented API and respect its rate limits. Scraping the
dashboard pages is not allowed.

## Enforcement

If an account breaks these rules, we first contact the account owner. After
{aup_warnings}, we may suspend the account until the problem is fixed. In
urgent cases, for example an active attack coming from an account, we may
suspend access immediately and explain afterwards.
""")

F("share_links", "acceptable-use-policy", "25 share links", a=["25 links", "25"],
  style="Each account may have at most {v} active at once",
  q="How many public share links can an account have active at once?",
  t=["What is the limit on active share links per account?", "How many public links to staves may exist at the same time?"],
  h=["For showing dashboards to people without logins, what's the cap on simultaneous links?", "Maximum number of read-only public links per account?"])
F("aup_warnings", "acceptable-use-policy", "two written warnings", a=["2 written warnings", "two warnings"],
  style="After {v}, Tessavik may suspend an account that breaks the acceptable use rules",
  q="After how many warnings may Tessavik suspend an account for breaking the rules?",
  t=["How many warnings are given before a rule-breaking account is suspended?", "When can an account be suspended under the acceptable use policy?"],
  h=["An account that keeps misusing the service is cut off after receiving how many notices?", "Number of written cautions before suspension?"])

doc("returns-and-rma", "Returns and RMA Process", "policy", """\
# Returns and RMA Process

Every device that comes back to us, whether for a refund, a warranty repair or
recycling, needs a return authorisation (RMA) number first. Parcels without one
are hard to match to a customer and may be sent back.

## Getting an RMA number

Contact support with the serial number and the reason for the return. RMA numbers
start with the prefix {rma_prefix} followed by six digits. Write the number
clearly on the outside of the parcel.

An RMA number is valid for {rma_valid} from the day it is issued. If the parcel
has not reached Ulvmora by then, ask support to reopen the case.

## Restocking fee

Hardware returned for a refund in perfect, resaleable condition is refunded in
full. If the packaging is missing or the device shows wear, a restocking fee of
{restocking_fee} of the purchase price is deducted.

No restocking fee applies to warranty returns or to devices sent back for
recycling.

## Packing

- Remove batteries from probes before shipping and keep them; we do not need them.
- Use the original box if you still have it, otherwise any sturdy carton with
  padding.
- Include a printout of the RMA email inside the parcel.
""")

F("rma_prefix", "returns-and-rma", "TRX-", a=["TRX"],
  style="RMA numbers start with the prefix {v} followed by six digits",
  q="What prefix do Tessavik RMA numbers start with?",
  t=["How does a Tessavik return authorisation number begin?", "What letters precede the digits in an RMA number?"],
  h=["The return authorisation code on my parcel should start with which characters?", "Which leading code identifies a return number?"])
F("rma_valid", "returns-and-rma", "17 days", a=["seventeen days"],
  style="An RMA number is valid for {v} from the day it is issued",
  q="How long is an RMA number valid?",
  t=["For how many days can I use an RMA number?", "What is the validity period of a return authorisation?"],
  h=["Once support issues a return code, how long do I have to get the parcel to the warehouse?", "A return authorisation expires after what time?"])
F("restocking_fee", "returns-and-rma", "8%", "11%", a=["8 percent", "8 per cent"], a2=["11 percent", "11 per cent"],
  style="A restocking fee of {v} of the purchase price is deducted for worn or incomplete returns",
  q="What restocking fee applies to returns that are worn or missing packaging?",
  t=["How much is the restocking fee?", "What percentage is deducted for returns without original packaging?"],
  h=["If I send something back with signs of use, how much of the price is kept?", "The deduction on non-resaleable refunds is what share?"])

doc("service-level-agreement", "Service Level Agreement", "policy", """\
# Service Level Agreement

This agreement describes the availability we promise for Loomwright and the API
on the Grove and Orchard plans, and what we give back if we miss it.

## Availability commitment

Loomwright and the API will be available at least {sla_uptime} of the time in
each calendar month, excluding planned maintenance.

Planned maintenance takes place during a fixed window, {maint_window}, and is
announced in advance. We use the window rarely; most updates need no downtime at
all.

## Service credits

If availability falls below the commitment in a month, affected customers receive
a service credit of {sla_credit} of that month's subscription fee. The credit is
applied to the next invoice.

To receive a credit, open a ticket within {sla_claim_window} after the end of the
affected month. We compare your claim with our own monitoring and confirm the
result.

## Exclusions

The commitment does not cover problems caused by your network, your hub's
internet connection, misuse of the service, or events outside our reasonable
control. The Seedling plan is provided without an availability commitment.
""")

F("sla_uptime", "service-level-agreement", "99.72%", "99.85%", a=["99.72 percent", "99.72"], a2=["99.85 percent", "99.85"],
  style="Loomwright and the API will be available at least {v} of the time each month",
  q="What monthly availability does the Tessavik SLA promise?",
  t=["What uptime does the service level agreement commit to?", "What percentage of availability is guaranteed for Loomwright?"],
  h=["Under the agreement for paid plans, how much of each month must the platform be up?", "The uptime commitment in the SLA is what figure?"])
F("maint_window", "service-level-agreement", "Tuesdays 02:00 to 03:30 CET", a=["Tuesday 02:00 to 03:30", "02:00 to 03:30 CET"],
  style="Planned maintenance takes place during a fixed window, {v}",
  q="When is the planned maintenance window?",
  t=["At what time does planned maintenance take place?", "What is Loomwright's fixed maintenance window?"],
  h=["Scheduled downtime for the platform happens on which day and hours?", "When might the dashboard be down for planned work?"])
F("sla_credit", "service-level-agreement", "12%", "15%", a=["12 percent", "12 per cent"], a2=["15 percent", "15 per cent"],
  style="If availability falls short, customers receive a service credit of {v} of the month's fee",
  q="What service credit is given if the uptime commitment is missed?",
  t=["How big is the SLA service credit?", "What percentage of the monthly fee is credited for an SLA breach?"],
  h=["When the platform's availability falls short, how much of my subscription comes back?", "Compensation for a missed uptime target is what share of the fee?"])
F("sla_claim_window", "service-level-agreement", "34 days", a=["thirty-four days"],
  style="Service credit claims must be opened within {v} after the end of the affected month",
  q="How long do I have to claim an SLA service credit?",
  t=["Within how many days must a service credit be requested?", "What is the deadline for SLA credit claims?"],
  h=["After a bad month of availability, how soon must I open a ticket to be compensated?", "Time limit for asking for an uptime credit?"])

# ===========================================================================
# PRICING
# ===========================================================================
doc("pricing-hardware", "Hardware Prices", "pricing", """\
# Hardware Prices

Prices in the web shop, in euros and including VAT. Partners, schools and
volume buyers pay less; see the volume discounts page.

| Item | Price |
|------|-------|
| Skerrow Hub (gateway, wall bracket, power adapter) | {price_hub} |
| Kestrane Probe (with one battery pack) | {price_probe} |
| Pelloway Dock (charging cradle and relay) | {price_dock} |
| Calibration salt kit | {price_cal_kit} |
| Spare wall bracket | {price_bracket} |

## Notes

- A starter set is simply a hub plus as many probes as you need; there is no
  fixed bundle, so you never pay for probes you do not use.
- Spare battery packs for probes are sold in the accessories section of the
  shop.
- Prices are reviewed once a year. An order is charged at the price shown when
  it was placed, even if the price changes before dispatch.
""", body_v2="""\
# Hardware Prices

Prices in the web shop, in euros and including VAT. Partners, schools and
volume buyers pay less; see the volume discounts page.

| Item | Price |
|------|-------|
| Skerrow Hub (gateway, wall bracket, power adapter) | {price_hub} |
| Kestrane Probe (with one battery pack) | {price_probe} |
| Virelle Tag (opening and tilt sensor) | {tag_price} |
| Calibration salt kit | {price_cal_kit} |
| Spare wall bracket | {price_bracket} |

The Pelloway Dock has been discontinued and is no longer listed; see its
end-of-life notice.

## Notes

- A starter set is simply a hub plus as many probes as you need; there is no
  fixed bundle, so you never pay for probes you do not use.
- Spare battery packs for probes are sold in the accessories section of the
  shop.
- Prices are reviewed once a year. An order is charged at the price shown when
  it was placed, even if the price changes before dispatch.
""")

F("price_hub", "pricing-hardware", "214.60 EUR", "229.90 EUR", a=["214.60", "EUR 214.60"], a2=["229.90", "EUR 229.90"],
  style="The Skerrow Hub costs {v}",
  q="How much does the Skerrow Hub cost?",
  t=["What is the price of the Skerrow Hub?", "What does Tessavik charge for a Skerrow Hub?"],
  h=["If I buy the gateway in the web shop, how much will I pay?", "List price of the hub including VAT?"])
F("price_probe", "pricing-hardware", "38.40 EUR", "35.90 EUR", a=["38.40", "EUR 38.40"], a2=["35.90", "EUR 35.90"],
  style="The Kestrane Probe costs {v}",
  q="How much does a Kestrane Probe cost?",
  t=["What is the price of one Kestrane Probe?", "What does a single Kestrane Probe sell for?"],
  h=["Buying one soil and air sensor from the shop costs how much?", "List price of a probe with its battery pack?"])
F("price_dock", "pricing-hardware", "72.50 EUR", None, a=["72.50", "EUR 72.50"],
  style="The Pelloway Dock costs {v}",
  q="How much does the Pelloway Dock cost?",
  t=["What is the price of the Pelloway Dock?", "What does Tessavik charge for a Pelloway Dock?"],
  h=["Buying the charging relay cradle costs how much?", "List price of the relay dock?"])
F("price_cal_kit", "pricing-hardware", "16.80 EUR", a=["16.80", "EUR 16.80"],
  style="The calibration salt kit costs {v}",
  q="How much does the calibration salt kit cost?",
  t=["What is the price of a calibration salt kit?", "What does Tessavik charge for the calibration kit?"],
  h=["The jar of reference salt for recalibrating sensors sells for what?", "Cost of the humidity calibration set?"])
F("price_bracket", "pricing-hardware", "9.30 EUR", a=["9.30", "EUR 9.30"],
  style="A spare wall bracket costs {v}",
  q="How much does a spare wall bracket cost?",
  t=["What is the price of a replacement wall bracket?", "What does an extra hub wall bracket cost?"],
  h=["If I need another mount for the gateway, how much is it?", "Price of an additional bracket for wall mounting?"])

doc("pricing-loomwright-plans", "Loomwright Plans and Prices", "pricing", """\
# Loomwright Plans and Prices

Loomwright comes in three plans. All plans include unlimited readings, the API
and data export; they differ in size, users and support commitments.

## Seedling

For hobby growers and trials. Seedling costs nothing and supports up to
{seedling_max_probes} on one hub. It has a single user and no availability
commitment.

## Grove

For working nurseries and small farms. Grove costs {grove_price} per account and
includes {grove_seats}. There is no limit on hubs or probes, and the service
level agreement applies.

## Orchard

For larger growers, research stations and seed banks. Orchard costs
{orchard_price} per account, includes unlimited users, and adds single audit
exports, custom retention for hourly aggregates and priority routing of chat
requests.

## Paying yearly

Grove and Orchard can be paid a year in advance, which saves {annual_saving}
compared with paying monthly. Switching between monthly and yearly billing takes
effect at the next renewal.

## Changing plans

Upgrades apply immediately and are charged pro rata. Downgrades apply at the end
of the current billing period. If you downgrade to Seedling with more probes than
it supports, the extra probes stop sending data until you remove them or upgrade
again.
""")

F("seedling_max_probes", "pricing-loomwright-plans", "6 probes", "8 probes", a=["6", "six probes"], a2=["8", "eight probes"],
  style="The free Seedling plan supports up to {v} on one hub",
  q="How many probes does the Seedling plan support?",
  t=["What is the probe limit on Loomwright's Seedling plan?", "How many probes can I use for free on Seedling?"],
  h=["On the no-cost hobby tier, how many sensors are allowed?", "The entry-level free plan caps probes at what number?"])
F("grove_price", "pricing-loomwright-plans", "19.40 EUR per month", "22.80 EUR per month",
  a=["19.40 EUR", "19.40", "EUR 19.40 per month"], a2=["22.80 EUR", "22.80", "EUR 22.80 per month"],
  style="The Grove plan costs {v} per account",
  q="How much does the Loomwright Grove plan cost?",
  t=["What is the monthly price of the Grove plan?", "What does a Grove subscription cost per month?"],
  h=["For a working nursery on the middle tier, what is the monthly fee?", "Price of the plan between Seedling and Orchard?"])
F("grove_seats", "pricing-loomwright-plans", "7 user seats", a=["7 users", "seven user seats", "7"],
  style="The Grove plan includes {v}",
  q="How many users are included in the Grove plan?",
  t=["How many user seats come with Grove?", "What is the user limit on the Grove plan?"],
  h=["On the mid-tier subscription, how many people can log in?", "Number of accounts for staff included in Grove?"])
F("orchard_price", "pricing-loomwright-plans", "63.70 EUR per month", "68.50 EUR per month",
  a=["63.70 EUR", "63.70", "EUR 63.70 per month"], a2=["68.50 EUR", "68.50", "EUR 68.50 per month"],
  style="The Orchard plan costs {v} per account",
  q="How much does the Loomwright Orchard plan cost?",
  t=["What is the monthly price of the Orchard plan?", "What does an Orchard subscription cost per month?"],
  h=["For research stations on the biggest tier, what is the monthly fee?", "Price of the top Loomwright plan?"])
F("annual_saving", "pricing-loomwright-plans", "13%", a=["13 percent", "13 per cent"],
  style="Paying Grove or Orchard a year in advance saves {v} compared with monthly billing",
  q="How much do I save by paying for Loomwright yearly?",
  t=["What is the discount for annual Loomwright billing?", "What percentage does paying a year in advance save?"],
  h=["Compared with monthly payments, how much cheaper is prepaying twelve months?", "Saving on Grove or Orchard when billed annually?"])

doc("pricing-halvard-care", "Halvard Care Prices", "pricing", """\
# Halvard Care Prices

Halvard Care is priced per covered device, so a site with one hub and a handful
of probes pays far less than a research campus.

**Price:** {hc_price} per device per year, the same for hubs and probes.

**Minimum:** a contract must cover at least {hc_min_devices}. Most customers
simply include every device on the account.

**Nightwatch add-on:** customers who need a person on the phone outside normal
support hours can add {hc_addon}, which gives a direct number answered through
the night for outages at covered sites. It is charged per account, not per
device, at a price quoted on request.

## Examples

- One hub and nine probes: ten devices, billed as ten devices.
- Two hubs and two probes: four devices, billed at the contract minimum.

## Discounts

Halvard Care is included in the standard partner discount. Education and
non-profit discounts do not apply to it.

Contract terms, response times and what is covered are described on the Halvard
Care product page.
""")

F("hc_price", "pricing-halvard-care", "11.90 EUR per device per year", "13.40 EUR per device per year",
  a=["11.90 EUR", "11.90"], a2=["13.40 EUR", "13.40"],
  style="Halvard Care costs {v}",
  q="How much does Halvard Care cost?",
  t=["What is the price of the Halvard Care support plan?", "What does Halvard Care cost per device?"],
  h=["For the premium support contract, how much is charged per covered unit each year?", "Yearly fee per device for the paid support plan?"])
F("hc_min_devices", "pricing-halvard-care", "4 devices", a=["four devices", "4"],
  style="A Halvard Care contract must cover at least {v}",
  q="What is the minimum number of devices for a Halvard Care contract?",
  t=["How many devices must a Halvard Care contract include at least?", "What is the Halvard Care device minimum?"],
  h=["Can I cover a single probe, or what's the smallest number of units per contract?", "The support plan requires covering no fewer than how many devices?"])
F("hc_addon", "pricing-halvard-care", "Nightwatch", a=["the Nightwatch add-on"],
  style="Halvard Care customers can add overnight phone cover with the {v} add-on",
  q="What is the name of the Halvard Care add-on for overnight phone support?",
  t=["Which add-on gives Halvard Care customers a night-time phone number?", "What is the out-of-hours add-on to Halvard Care called?"],
  h=["To have someone answer outage calls through the night, which extra do I buy?", "Name the optional night cover for the support plan."])

doc("volume-discounts", "Volume, Education and Non-Profit Discounts", "pricing", """\
# Volume, Education and Non-Profit Discounts

We keep list prices honest and offer a few simple, published discounts instead of
negotiating every order.

**Volume.** Orders of {volume_threshold} or more in a single order receive
{volume_discount} off the probe price. The discount applies to the probes only,
not to hubs or accessories in the same order.

**Education.** Schools, universities and agricultural colleges receive
{edu_discount} off hardware and Loomwright plans. We ask for a purchase order or
an institutional email address.

**Non-profit.** Registered charities, community gardens and seed libraries
receive {nonprofit_discount} off hardware and Loomwright plans.

## Combining discounts

Discounts do not stack. If more than one applies, you get the largest. Partner
prices already include the partner discount and cannot be combined with the
discounts on this page.

## How to claim

Volume discounts are applied automatically at checkout. For education and
non-profit discounts, contact the customer team once; after approval the discount
is attached to your account and applied to every order.
""")

F("volume_threshold", "volume-discounts", "25 probes", a=["25"],
  style="Orders of {v} or more receive a volume discount on probes",
  q="How many probes must be ordered to get the volume discount?",
  t=["What is the minimum probe quantity for a volume discount?", "From how many probes does the volume discount start?"],
  h=["To qualify for bulk pricing on sensors, how many must be in one order?", "Threshold quantity for the probe bulk rebate?"])
F("volume_discount", "volume-discounts", "9%", "12%", a=["9 percent", "9 per cent"], a2=["12 percent", "12 per cent"],
  style="Large probe orders receive {v} off the probe price",
  q="How much is the volume discount on probes?",
  t=["What percentage off do bulk probe orders get?", "What is the probe volume discount rate?"],
  h=["Buying many sensors at once lowers their price by how much?", "The bulk rebate on probes is what percentage?"])
F("edu_discount", "volume-discounts", "22%", "25%", a=["22 percent", "22 per cent"], a2=["25 percent", "25 per cent"],
  style="Schools, universities and agricultural colleges receive {v} off hardware and Loomwright plans",
  q="What discount do schools and universities get?",
  t=["How big is the education discount?", "What percentage off do educational institutions receive?"],
  h=["An agricultural college buying kit pays how much less?", "Reduction for teaching and academic customers?"])
F("nonprofit_discount", "volume-discounts", "14%", a=["14 percent", "14 per cent"],
  style="Registered charities, community gardens and seed libraries receive {v} off",
  q="What discount do non-profit organisations get?",
  t=["How big is the non-profit discount?", "What percentage off do charities and community gardens receive?"],
  h=["A seed library registered as a charity saves how much on purchases?", "Reduction offered to charitable groups?"])

doc("payment-methods", "Payment Methods and Invoicing", "pricing", """\
# Payment Methods and Invoicing

## Paying in the web shop

The web shop accepts debit and credit cards and direct bank payment. Card
payments are taken when the order is placed; bank payments must arrive before
the order is dispatched.

Prices can be shown and paid in euros, Swedish kronor, Norwegian kroner and
Danish kroner. Loomwright subscriptions are always billed in the currency chosen
when the account was created.

## Paying by invoice

Businesses and public bodies can pay by invoice on orders of at least
{invoice_min}. Invoices are payable {invoice_terms} from the invoice date.

## Late payment

Overdue invoices accrue interest of {late_interest} on the outstanding amount.
After a second reminder we may pause the Loomwright account until the invoice is
paid; readings are still collected and stored during the pause.

## Receipts

Every payment produces a receipt, sent by email from {billing_email} and
available for download in Loomwright under Billing.
""")

F("invoice_min", "payment-methods", "320 EUR", a=["320", "EUR 320"],
  style="Invoice payment is available on orders of at least {v}",
  q="What is the minimum order value for paying by invoice?",
  t=["How large must an order be to pay by invoice?", "From what amount can businesses choose invoice payment?"],
  h=["Below which total is paying later on an invoice not allowed?", "Smallest order eligible for invoicing?"])
F("invoice_terms", "payment-methods", "net 21 days", "net 30 days", a=["21 days"], a2=["30 days"],
  style="Invoices are payable {v} from the invoice date",
  q="What are Tessavik's invoice payment terms?",
  t=["How many days do I have to pay an invoice?", "What is the payment deadline on invoices?"],
  h=["After an invoice is issued, how long until payment is due?", "The due period for business invoices is what?"])
F("late_interest", "payment-methods", "1.2% per month", a=["1.2%", "1.2 percent per month"],
  style="Overdue invoices accrue interest of {v}",
  q="What interest is charged on overdue invoices?",
  t=["What is the late payment interest rate?", "How much interest accrues on a late invoice?"],
  h=["If I pay an invoice late, what rate is added to the balance?", "Penalty interest for overdue bills?"])
F("billing_email", "payment-methods", "billing@tessavik.example",
  style="Receipts are sent by email from {v}",
  q="From which email address are receipts sent?",
  t=["What address sends Tessavik payment receipts?", "Which mailbox do receipts come from?"],
  h=["The emails confirming my payment arrive from what sender?", "Sender address of billing receipts?"])

# ===========================================================================
# RELEASE NOTES
# ===========================================================================
_HUB_FW_OLD = """\
## {fw_latest__v1}

- Fixed a clock drift that could appear after several LTE failovers in one day.
- Hubs now report the battery level of each probe to Loomwright every hour
  instead of every six hours.
- Faster reconnection of probes after a hub restart.

## 7.3.0

- New: probes can be moved between hubs without removing them first.
- Reduced radio chatter when many probes sit at the edge of range.

## {fw_hopping_version}

- New: Skeinlink channel hopping, which makes the radio link far more robust in
  greenhouses with heavy interference from pumps and lighting ballasts.
- The hub's status light now shows LTE fallback as a slow green blink.

## {fw_security_fix_version}

- Security fix in the update verifier. All hubs should update.
"""

doc("release-notes-hub-firmware", "Skerrow Hub Firmware Release Notes", "release-notes", """\
# Skerrow Hub Firmware Release Notes

Firmware for the Skerrow Hub is released under the codename {fw_codename}. Hubs
install new releases automatically; the latest release is {fw_latest}. Entries
are listed newest first.

""" + _HUB_FW_OLD, body_v2="""\
# Skerrow Hub Firmware Release Notes

Firmware for the Skerrow Hub is released under the codename {fw_codename}. Hubs
install new releases automatically; the latest release is {fw_latest}. Entries
are listed newest first.

## 7.4.0

- Support for the Virelle Tag, including pairing and tilt events.
- The hub now accepts more probes per hub than before.
- Probes sample more efficiently, which extends battery life.
- Last release that ships updates to the Pelloway Dock.

""" + _HUB_FW_OLD)

F("fw_latest", "release-notes-hub-firmware", "7.3.1", "7.4.0", a=["version 7.3.1"], a2=["version 7.4.0"], keep_old=True,
  style="The latest Skerrow Hub firmware release is {v}",
  q="What is the latest Skerrow Hub firmware version?",
  t=["Which firmware release is current on the Skerrow Hub?", "What is the newest hub firmware version number?"],
  h=["If my gateway is fully up to date, which version does it run?", "Most recent firmware build for the hub?"])
F("fw_codename", "release-notes-hub-firmware", "Tindra-7", a=["Tindra 7"],
  style="Skerrow Hub firmware is released under the codename {v}",
  q="What is the codename of the Skerrow Hub firmware?",
  t=["Under which codename is hub firmware released?", "What is the Skerrow Hub firmware line called?"],
  h=["The gateway's software releases go by what internal name?", "Name of the firmware family running on the hub?"])
F("fw_security_fix_version", "release-notes-hub-firmware", "7.1.4", a=["version 7.1.4", "firmware 7.1.4"],
  style="The security fix in the update verifier shipped in hub firmware {v}",
  q="Which hub firmware release contained the security fix in the update verifier?",
  t=["In what firmware version was the update verifier vulnerability fixed?", "Which Skerrow Hub release patched the update verifier?"],
  h=["The gateway release that every hub was urged to install for safety reasons is which?", "Version number of the firmware that closed the hole in update checking?"])
F("fw_hopping_version", "release-notes-hub-firmware", "7.2.0", a=["version 7.2.0", "firmware 7.2.0"],
  style="Skeinlink channel hopping was introduced in hub firmware {v}",
  q="Which hub firmware version introduced Skeinlink channel hopping?",
  t=["In what firmware release did channel hopping arrive?", "When was channel hopping added to the hub firmware?"],
  h=["The radio feature that copes with pump interference first shipped in which version?", "Release number that brought frequency hopping to the gateway?"])

_LW_OLD = """\
## Loomwright {lw_latest__v1}

- Notes on charts can now be edited by the person who wrote them.
- Export jobs show progress while they are being prepared.
- Fixed the map view losing its zoom level after a refresh.

## Loomwright {lw_quiet_hours_version}

- Quiet hours for alert notifications, set per user.
- Staves can be duplicated, including their charts and map layers.

## Loomwright {lw_heatmap_version}

- New heatmap view showing one measurement across every probe in a bough over
  time. Ideal for spotting a cold corner.
- Faster loading of long date ranges.

## Loomwright 4.9

- Alert escalation chains can include people outside the account, notified by
  SMS only.
- Probe detail pages show the date of the last calibration.
- Fixed charts showing the wrong week number in some time zones.

Older release notes are archived and available from support on request.
"""

doc("release-notes-loomwright", "Loomwright Release Notes", "release-notes", """\
# Loomwright Release Notes

Loomwright is updated continuously; numbered releases collect the visible
changes. The current release is Loomwright {lw_latest}.

""" + _LW_OLD, body_v2="""\
# Loomwright Release Notes

Loomwright is updated continuously; numbered releases collect the visible
changes. The current release is Loomwright {lw_latest}.

## Loomwright 4.13

- Virelle Tags appear on site maps with an open or closed symbol.
- Alert rules can now watch tag openings as well as measurements.
- The Pelloway Dock is shown with an end-of-life badge.

""" + _LW_OLD)

F("lw_latest", "release-notes-loomwright", "4.12", "4.13", a=["Loomwright 4.12"], a2=["Loomwright 4.13"], keep_old=True,
  style="The current Loomwright release is {v}",
  q="What is the current Loomwright release?",
  t=["Which Loomwright version is the newest?", "What release number is Loomwright on now?"],
  h=["The dashboard's most recent numbered version is which?", "Latest version of the web dashboard?"])
F("lw_quiet_hours_version", "release-notes-loomwright", "4.11", a=["Loomwright 4.11"],
  style="Quiet hours for alert notifications were introduced in Loomwright {v}",
  q="Which Loomwright release introduced quiet hours for alert notifications?",
  t=["In what version of Loomwright did per-user quiet hours appear?", "When were notification quiet hours added to Loomwright?"],
  h=["The option to silence non-critical alerts overnight first shipped in which dashboard version?", "Release number that let each user mute notifications for set periods?"])
F("lw_heatmap_version", "release-notes-loomwright", "4.10", a=["Loomwright 4.10"],
  style="The heatmap view was added in Loomwright {v}",
  q="In which Loomwright release was the heatmap view added?",
  t=["Which version of Loomwright introduced heatmaps?", "When did the heatmap view arrive in Loomwright?"],
  h=["The chart that spots a cold corner across a whole bough first shipped in what version?", "Release number that brought heatmaps to the dashboard?"])

_CLI_OLD = """\
## {cli_latest__v1}

- `fennick pull` resumes interrupted downloads instead of starting over.
- Clearer message when the API rate limit is reached.

## {cli_parquet_version}

- Profiles can now be selected with an environment variable.
- Support for Parquet output in `fennick pull`.

## {cli_dry_run_version}

- New `--dry-run` option for every command that changes data, showing what
  would happen without doing it.
- `fennick hub status` shows firmware versions.

## 2.7.2

- Fixed a crash when a profile file contained comments at the end of a line.
- Calibration uploads now verify each probe's serial number before sending.

## 2.7.0

- Readings can be pulled for several boughs in one command.
- Output files are written atomically, so an interrupted download never leaves
  a half-written file behind.

## Support policy

Only the latest minor release receives fixes. Older versions keep working as long
as the API they use is available; we announce API retirements well in advance.
"""

doc("release-notes-fennick-cli", "Fennick CLI Release Notes", "release-notes", """\
# Fennick CLI Release Notes

Upgrade Fennick with the same package manager you installed it with. The latest
version is {cli_latest}.

""" + _CLI_OLD, body_v2="""\
# Fennick CLI Release Notes

Upgrade Fennick with the same package manager you installed it with. The latest
version is {cli_latest}.

## 3.0.1

- Fixed `fennick pull` ignoring the end date when given in local time.

## 3.0.0

- Larger uploads are accepted.
- Commands for Virelle Tags: `fennick tag list` and `fennick tag events`.
- Pelloway Dock commands print an end-of-life warning.

""" + _CLI_OLD)

F("cli_latest", "release-notes-fennick-cli", "2.9.4", "3.0.1", a=["version 2.9.4", "Fennick 2.9.4"],
  a2=["version 3.0.1", "Fennick 3.0.1"], keep_old=True,
  style="The latest Fennick CLI version is {v}",
  q="What is the latest version of the Fennick CLI?",
  t=["Which Fennick release is the newest?", "What version number is current for Fennick?"],
  h=["If I upgrade the command-line tool today, which version will I get?", "Most recent release of the terminal client?"])
F("cli_parquet_version", "release-notes-fennick-cli", "2.9.0", a=["version 2.9.0", "Fennick 2.9.0"],
  style="Parquet output for fennick pull arrived in Fennick {v}",
  q="Which Fennick release added Parquet output to fennick pull?",
  t=["In what version could fennick pull first write Parquet files?", "When did Fennick gain Parquet support for pulling readings?"],
  h=["The command-line download gained the compact columnar format in which release?", "Version number where Parquet became an output option of the CLI?"])
F("cli_dry_run_version", "release-notes-fennick-cli", "2.8.0", a=["version 2.8.0", "Fennick 2.8.0"],
  style="The --dry-run option was added in Fennick {v}",
  q="Which Fennick version added the --dry-run option?",
  t=["When was --dry-run introduced in Fennick?", "In which release did Fennick gain a dry-run flag?"],
  h=["The ability to preview a data-changing command without running it first appeared in what version?", "Release number that brought simulation mode to the CLI?"])

# ===========================================================================
# FAQ
# ===========================================================================
doc("faq-general", "General FAQ", "faq", """\
# General FAQ

**Can I see the products before buying?**
Yes. The showroom at our Brolleby headquarters has a small working greenhouse
with every current device. It is open to walk-in visitors on {showroom_day};
on other days, book a visit through the general contact address.

**Do you run online demonstrations?**
We host a live demo webinar {demo_schedule}. It lasts about forty minutes and
ends with open questions. The sign-up link is on the Loomwright login page.

**Do I need Loomwright to use the hardware?**
Yes. The hub sends its readings to Loomwright, and the free Seedling plan is
enough for a small setup.

**Can I use Tessavik equipment outdoors?**
Probes are built for wet conditions and work well in open fields. The hub should
be mounted under cover.

**Is there a minimum age for a Loomwright account?**
Account holders must be at least {min_account_age} years old. Younger students can
use an account set up by their school.
""")

F("showroom_day", "faq-general", "Thursdays", a=["Thursday"],
  style="The Brolleby showroom is open to walk-in visitors on {v}",
  q="On which day is the showroom open to walk-in visitors?",
  t=["When can I visit the Brolleby showroom without booking?", "What day of the week does the showroom accept walk-ins?"],
  h=["If I want to drop by headquarters to see the devices unannounced, which day should I come?", "Walk-in visits to the demo greenhouse happen on what weekday?"])
F("demo_schedule", "faq-general", "every second Wednesday", a=["every other Wednesday", "fortnightly on Wednesdays"],
  style="Tessavik hosts a live demo webinar {v}",
  q="How often does Tessavik run a live demo webinar?",
  t=["When are the online product demonstrations held?", "What is the schedule of the live demo webinars?"],
  h=["If I want to watch a demonstration over the internet, on which days can I join?", "Frequency of the forty-minute online demos?"])
F("min_account_age", "faq-general", "16", a=["16 years", "16 years old", "sixteen"],
  style="Loomwright account holders must be at least {v} years old",
  q="What is the minimum age for holding a Loomwright account?",
  t=["How old must I be to open a Loomwright account?", "Is there an age requirement for Loomwright accounts, and what is it?"],
  h=["Can a teenager register for the dashboard, and from what age?", "Account holders need to have reached which age?"])

doc("faq-billing", "Billing FAQ", "faq", """\
# Billing FAQ

**When am I charged for my Loomwright subscription?**
Monthly subscriptions renew on the {renewal_day} of each month, whatever day you
signed up. Your first month is charged pro rata.

**Can I change the currency of my account?**
Yes, but only {currency_change_limit}, and only between the currencies we
support. Contact the customer team to switch.

**Why was I charged for a month I did not use?**
Cancellations take effect at the end of the current month, so the month in which
you cancel is charged in full.

**I lost an invoice. Can you resend it?**
All invoices and receipts are in Loomwright under Billing. Account owners can
download them at any time.

**Do you store my card details?**
No. Card details are handled by our payment provider and never touch Tessavik
systems. We only see the last four digits and the expiry date.

**Can I get an invoice in my company's name after paying by card?**
Yes. Add the company details under Billing before the payment and they will
appear on the invoice.
""")

F("renewal_day", "faq-billing", "3rd", a=["3rd of each month", "third"],
  style="Monthly Loomwright subscriptions renew on the {v} of each month",
  q="On which day of the month do Loomwright subscriptions renew?",
  t=["What date are monthly subscriptions charged?", "When in the month does Loomwright bill renewals?"],
  h=["Regardless of sign-up date, which calendar day does my monthly fee get taken?", "Subscription renewal happens on what day of every month?"])
F("currency_change_limit", "faq-billing", "once every 12 months", a=["once a year", "once per 12 months"],
  style="An account's currency can be changed only {v}",
  q="How often can I change my account's currency?",
  t=["Is there a limit on switching account currency?", "How frequently may the billing currency be changed?"],
  h=["If I want to move from kronor to euros, how often am I allowed to do that?", "Frequency limit on currency switches for an account?"])

doc("faq-hardware", "Hardware FAQ", "faq", """\
# Hardware FAQ

**Can probes be buried in the soil?**
The prongs are meant to go in the soil; the head should stay above it. If you
must bury a probe completely, keep it no deeper than {probe_bury_depth}, or the
radio signal will be too weak.

**What happens to the hub in a power cut?**
An internal supercapacitor keeps the hub running for about {hub_holdup} so it
can store its buffer and report the outage. After that it shuts down cleanly and
restarts by itself when power returns.

**Will my old probes work with a new hub?**
Probes from generation {oldest_probe_gen} onwards work with every current hub.
Earlier probes used a different radio and cannot be paired.

**Can I replace the probe battery myself?**
Yes. Unscrew the cap, swap the pack, and screw the cap back on firmly to keep the
seal tight. No tools are needed.

**Why does my probe read warmer than my thermometer?**
Usually because of direct sun on the probe head. Move it into shade at crop
height and compare again after an hour.
""")

F("probe_bury_depth", "faq-hardware", "25 cm", a=["25 centimetres", "25 centimeters"],
  style="A fully buried probe should be no deeper than {v}",
  q="How deep can a Kestrane Probe be buried?",
  t=["What is the maximum burial depth for a probe?", "How far below the soil surface can a probe go?"],
  h=["If I put a sensor entirely underground, what depth should I not exceed?", "Deepest a probe can sit in soil before the radio fails?"])
F("hub_holdup", "faq-hardware", "40 minutes", a=["forty minutes"],
  style="During a power cut the hub's supercapacitor keeps it running for about {v}",
  q="How long does the hub keep running during a power cut?",
  t=["For how long does the Skerrow Hub's supercapacitor power it after an outage?", "What is the hub's hold-up time without mains power?"],
  h=["If electricity fails, how many minutes before the gateway shuts itself down?", "Runtime of the gateway on its internal reserve?"])
F("oldest_probe_gen", "faq-hardware", "Kestrane K3", a=["K3"],
  style="Probes from generation {v} onwards work with every current hub",
  q="What is the oldest probe generation that works with current hubs?",
  t=["Which probe generation is the earliest compatible with a new hub?", "From which Kestrane generation can probes pair with current hubs?"],
  h=["Older sensors may not pair; which generation is the cut-off?", "Earliest Kestrane model still usable with today's gateway?"])

doc("faq-loomwright", "Loomwright FAQ", "faq", """\
# Loomwright FAQ

**How many boughs can one account have?**
Up to {max_boughs}. Most sites need far fewer; a bough usually matches one
greenhouse, bench or trial.

**My hub was offline for a day. Will the missing readings appear?**
Yes, as long as they reach Loomwright within {late_reading_limit} of being
measured. The hub's buffer normally delivers them much sooner. Readings older than
that are discarded to keep charts consistent.

**I deleted a bough by mistake. Can I get it back?**
Deleted boughs go to the recycle bin and stay there for {bin_days}. Restore them
from Settings, Recycle bin. After that they are gone for good; the probes
themselves are not deleted and can be added to a new bough.

**Can two people edit the same stave at once?**
Yes. Changes appear for both within a few seconds; the last change wins.

**Which time zone do charts use?**
Each user picks a time zone in their profile. Readings are stored in UTC and shown
in the user's zone.
""")

F("max_boughs", "faq-loomwright", "120 boughs", a=["120"],
  style="One Loomwright account can have up to {v}",
  q="How many boughs can one Loomwright account have?",
  t=["What is the bough limit per account?", "What's the maximum number of boughs in Loomwright?"],
  h=["How many probe groups may I create under a single account?", "Ceiling on groups of probes per account?"])
F("late_reading_limit", "faq-loomwright", "6 days", a=["six days"],
  style="Late readings appear if they reach Loomwright within {v} of being measured",
  q="How late can a reading arrive and still be accepted by Loomwright?",
  t=["What is the cut-off for delayed readings?", "How old may buffered readings be when they reach Loomwright?"],
  h=["After a long outage, measurements older than what are thrown away?", "Maximum delay for a reading before the dashboard discards it?"])
F("bin_days", "faq-loomwright", "12 days", a=["twelve days"],
  style="Deleted boughs stay in the recycle bin for {v}",
  q="How long do deleted boughs stay in the recycle bin?",
  t=["For how many days can a deleted bough be restored?", "What is the recycle bin period for boughs?"],
  h=["If I remove a probe group by accident, how long do I have to undo it?", "Time a deleted bough remains recoverable?"])

# ===========================================================================
# GLOSSARY, COMPLIANCE, GETTING STARTED
# ===========================================================================
doc("glossary", "Glossary", "glossary", """\
# Glossary

Terms used across Tessavik documentation, in alphabetical order.

**Bough.** A named group of probes in Loomwright. Alert rules, exports and
calibration can be applied to a whole bough at once. The word is ours; it is not
a standard industry term.

**Claim code.** The code under the barcode label of a hub, used once to add the
hub to an account.

**Drift allowance.** The largest difference from the calibration reference that a
probe may show before Loomwright marks it as needing calibration. It is set to
{drift_allowance} relative humidity.

**Lapse.** An alert that cleared itself before anyone acknowledged it. Lapses are
counted separately so that flapping rules can be spotted.

**Skeinlink.** The radio link between probes, tags and hubs, designed by
Tessavik.

**Stave.** A page in Loomwright holding charts, map layers and status tiles,
arranged by the user.

**Uplink.** The hub's connection to Loomwright, over Ethernet or LTE.
""")

F("bough_term", "glossary", "bough", a=["a bough", "boughs"], also=["loomwright-dashboard"],
  style="In Loomwright a named group of probes is called a {v}",
  q="What does Loomwright call a named group of probes?",
  t=["What is the term for a group of probes in Loomwright?", "In Tessavik terminology, what is a set of grouped probes called?"],
  h=["When I gather several sensors under one name in the dashboard, what's that collection known as?", "Name of the probe-grouping concept?"])
F("stave_term", "glossary", "stave", a=["a stave", "staves"], also=["loomwright-dashboard"],
  style="A page of charts, map layers and status tiles in Loomwright is called a {v}",
  q="What is a page of charts and tiles in Loomwright called?",
  t=["What is the Loomwright term for a dashboard page?", "In Loomwright, what do you call a user-arranged page of charts?"],
  h=["The dashboard screen I lay out with graphs and maps has what special name?", "Tessavik's word for a custom view page?"])
F("lapse_term", "glossary", "lapse", a=["a lapse", "lapses"], also=["alerts-and-notifications"],
  style="An alert that clears itself before anyone acknowledges it is called a {v}",
  q="What is an alert that clears itself before being acknowledged called?",
  t=["What term describes a self-clearing alert?", "What does Tessavik call an alert nobody acknowledged because it resolved itself?"],
  h=["If a warning goes away on its own before anyone responds, how is it recorded?", "Name for a notification that resolves without acknowledgement?"])
F("drift_allowance", "glossary", "2.7 percentage points", a=["2.7 points", "2.7"],
  style="The drift allowance is set to {v} relative humidity",
  q="What is the drift allowance before a probe is flagged for calibration?",
  t=["How large is the drift allowance?", "How far may a probe deviate in humidity before it needs calibration?"],
  h=["At what deviation from the reference does the dashboard say a sensor needs recalibrating?", "Tolerance for humidity drift before flagging?"])

doc("compliance-certifications", "Compliance and Certifications", "company", """\
# Compliance and Certifications

Customers in research and food production often need evidence that their
suppliers meet recognised standards. This page lists what we hold.

## Information security

Tessavik has been certified to ISO/IEC 27001 since {iso_year}. The certificate
covers Loomwright, the API, our support systems and the firmware signing process.
The certificate number is {iso_cert_no}; a copy can be requested from the
customer team.

## Radio and electrical safety

The Skerrow Hub, Kestrane Probe and Pelloway Dock carry the CE marking and
comply with the European radio equipment and electrical safety rules. Declarations
of conformity are included in the box and can be downloaded from the support
pages.

## Materials

All devices comply with the European restrictions on hazardous substances. Our
batteries are collected and recycled through the take-back programme described
in the sustainability report.

## Food production sites

Probes are often used near crops for human consumption. The probe housing is made
from materials rated for incidental food contact, tested by an accredited
laboratory in {food_test_year}.
""", body_v2="""\
# Compliance and Certifications

Customers in research and food production often need evidence that their
suppliers meet recognised standards. This page lists what we hold.

## Information security

Tessavik has been certified to ISO/IEC 27001 since {iso_year}. The certificate
covers Loomwright, the API, our support systems and the firmware signing process.
The certificate number is {iso_cert_no}; a copy can be requested from the
customer team.

## Radio and electrical safety

The Skerrow Hub, Kestrane Probe and Virelle Tag carry the CE marking and comply
with the European radio equipment and electrical safety rules. Declarations of
conformity are included in the box and can be downloaded from the support pages.

## Materials

All devices comply with the European restrictions on hazardous substances. Our
batteries are collected and recycled through the take-back programme described
in the sustainability report.

## Food production sites

Probes are often used near crops for human consumption. The probe housing is made
from materials rated for incidental food contact, tested by an accredited
laboratory in {food_test_year}.
""")

F("iso_year", "compliance-certifications", "2021", a=["since 2021"],
  style="Tessavik has been certified to ISO/IEC 27001 since {v}",
  q="Since what year has Tessavik been ISO/IEC 27001 certified?",
  t=["When did Tessavik obtain ISO 27001 certification?", "How long has Tessavik held its ISO/IEC 27001 certificate?"],
  h=["The information-security standard certificate was first awarded in which year?", "Year the company became certified for security management?"])
F("iso_cert_no", "compliance-certifications", "TSV-4471", a=["TSV4471"],
  style="Tessavik's ISO/IEC 27001 certificate number is {v}",
  q="What is Tessavik's ISO/IEC 27001 certificate number?",
  t=["Which number is on Tessavik's ISO 27001 certificate?", "What certificate number does the ISO/IEC 27001 certification carry?"],
  h=["If I need to verify the security certification, what reference do I quote?", "Identifier of the information-security certificate?"])
F("food_test_year", "compliance-certifications", "2023", a=["in 2023"],
  style="The probe housing materials were tested for incidental food contact in {v}",
  q="In what year was the probe housing tested for food contact?",
  t=["When was the Kestrane Probe housing tested by a laboratory for food contact?", "Which year did the food-contact testing of probe materials take place?"],
  h=["The lab check that lets sensors sit near edible crops was done when?", "Year of the accredited food-safety test on the probe casing?"])

doc("getting-started", "Getting Started", "howto", """\
# Getting Started

New to Tessavik? This page shows the order in which to set things up. Each step
links to a more detailed guide.

1. **Create a Loomwright account.** Sign up on the Loomwright website. You start
   on the free Seedling plan and can upgrade at any time.
2. **Install the hub.** Follow the installation guide. The hub needs power, an
   Ethernet cable and a spot with a clear view down the greenhouse.
3. **Pair your probes.** Open the pairing window on the hub and add probes one by
   one. Give each probe a name you will recognise in a year's time, such as
   "Bench 4 north" rather than a serial number.
4. **Create boughs.** Group probes by greenhouse, crop or trial.
5. **Build a stave.** Add charts for the values you care about most.
6. **Set up alerts.** Start with a frost alert and a dry-soil alert; you can add
   more later.

## How long does it take?

A first-time setup with one hub and up to ten probes takes most people about
{setup_time}. Larger sites are best set up one greenhouse at a time.

## Getting help

Our onboarding team offers a free {onboarding_call_length} video call to every
new Grove and Orchard customer. Book it from the welcome email.
""")

F("setup_time", "getting-started", "75 minutes", a=["seventy-five minutes", "an hour and a quarter"],
  style="A first-time setup with one hub and up to ten probes takes about {v}",
  q="How long does a first-time setup with one hub and up to ten probes take?",
  t=["How much time should I plan for setting up my first hub and probes?", "What is the typical duration of an initial Tessavik setup?"],
  h=["For a beginner installing a gateway plus a handful of sensors, how long is the whole job?", "Expected time to get a small site running from scratch?"])
F("onboarding_call_length", "getting-started", "25-minute", a=["25 minutes", "25 minute"],
  style="New Grove and Orchard customers are offered a free {v} onboarding video call",
  q="How long is the free onboarding video call for new customers?",
  t=["What is the length of the onboarding call offered to Grove and Orchard customers?", "How many minutes does the free onboarding session last?"],
  h=["The welcome video meeting for paying subscribers runs for how long?", "Duration of the complimentary setup call?"])

# ===========================================================================
# UNANSWERABLE QUESTIONS (nothing in v1 or v2 answers them; `absent` terms are
# verified to occur in no document)
# ===========================================================================
U("company", ["birthday", "born"],
  "When is the birthday of Tessavik's chief executive?",
  ["On what date was Runa Tellquist born?", "What is the CEO's date of birth?"],
  ["How old is the person who runs Tessavik?", "Which day does the head of the company celebrate turning a year older?"])
U("company", ["revenue", "turnover", "sales figures"],
  "What was Tessavik's annual revenue last year?",
  ["How much revenue does Tessavik make per year?", "What is Tessavik's yearly turnover?"],
  ["How much money did the company bring in over the last financial year?", "Give me the firm's total sales in euros for a year."])
U("company", ["ticker", "stock exchange", "IPO", "shares"],
  "Is Tessavik listed on a stock exchange, and under what ticker?",
  ["What is Tessavik's stock ticker symbol?", "Where are Tessavik shares traded?"],
  ["Can I buy equity in the company on a public market?", "Which symbol would I look up to invest in the firm?"])
U("pricing", ["USD", "US dollars", "dollar"],
  "How much does the Skerrow Hub cost in US dollars?",
  ["What is the USD price of the Skerrow Hub?", "What does the hub sell for in dollars?"],
  ["If I pay in American currency, what's the gateway's price?", "Price of the gateway converted to the US currency?"])
U("product", ["accuracy", "±", "tolerance of"],
  "How accurate is the Kestrane Probe's humidity measurement?",
  ["What is the humidity accuracy of the Kestrane Probe?", "To within how many percent does the probe measure relative humidity?"],
  ["What error margin should I expect on the sensor's moisture-in-air readings?", "Precision specification for the probe's RH sensor?"])
U("product", ["weighs", "grams", "kg", "kilograms"],
  "How much does the Skerrow Hub weigh?",
  ["What is the weight of the Skerrow Hub?", "How heavy is the Skerrow Hub?"],
  ["Is the gateway light enough to hang on a thin wall, and what's its mass?", "Mass of the hub in grams?"])
U("company", ["parking", "car park"],
  "Is there visitor parking at the Brolleby headquarters?",
  ["Can I park my car at Tessavik's head office?", "Does the Brolleby office have a car park for guests?"],
  ["Where should I leave my vehicle when visiting the main office?", "Are there spaces for visitors' cars at HQ?"])
U("product", ["status page", "iOS", "Android", "App Store"],
  "What is the address of the Loomwright status page?",
  ["Where can I check whether Loomwright is having an outage?", "Which URL shows Loomwright's current service status?"],
  ["Is there a public site that tells me if the dashboard is down?", "Link to the live uptime dashboard for the platform?"])
U("product", ["SAML", "single sign-on", "SSO", "Okta"],
  "Does Loomwright support single sign-on with SAML?",
  ["Can we log into Loomwright through our SSO provider?", "Is SAML login available for Loomwright?"],
  ["Could our staff authenticate to the dashboard via the company identity provider?", "Does the web dashboard integrate with Okta or similar?"])
U("product", ["dark mode", "dark theme"],
  "Does Loomwright have a dark mode?",
  ["Can I switch Loomwright to a dark theme?", "Is a dark colour scheme available in Loomwright?"],
  ["For night shifts, can the dashboard display light text on a black background?", "Is there a night-friendly look for the web interface?"])
U("product", ["download size", "installer", "disk space"],
  "How much disk space does the Fennick CLI need?",
  ["What is the download size of Fennick?", "How large is the Fennick installation?"],
  ["Before installing the command-line tool, how much free storage should my laptop have?", "Footprint on disk of the terminal client?"])
U("product", ["translated", "German", "French", "Finnish"],
  "Which languages is the Loomwright interface translated into?",
  ["Is Loomwright available in German or French?", "What interface translations does Loomwright offer?"],
  ["Can staff who don't read English use the dashboard in their own tongue?", "Into how many languages has the web interface been localised?"])
U("company", ["auditor", "accounting firm"],
  "Which accounting firm audits Tessavik's financial statements?",
  ["Who is Tessavik's auditor?", "What firm checks Tessavik's annual accounts?"],
  ["The company's books are reviewed by which external auditing company?", "Name the outside accountants that sign off the firm's finances."])
U("company", ["military", "veteran", "veterans"],
  "Does Tessavik offer a military or veterans discount?",
  ["Is there a discount for veterans?", "Can armed forces members get a lower price?"],
  ["Do former soldiers qualify for reduced prices on the equipment?", "Are service members eligible for special pricing?"])
U("pricing", ["gift card", "gift cards", "gift voucher"],
  "Can I buy a Tessavik gift card?",
  ["Does Tessavik sell gift cards?", "Is there a gift voucher I can purchase for someone?"],
  ["I'd like to give a friend credit to spend in the web shop; is that possible?", "Are prepaid presents for the shop available?"])
U("pricing", ["loyalty", "reward points", "points programme"],
  "Does Tessavik have a loyalty points programme?",
  ["Can I earn reward points on Tessavik purchases?", "Is there a customer loyalty scheme?"],
  ["Do repeat buyers collect something redeemable on each order?", "Will regular customers accumulate points for future discounts?"])
U("product", ["LTE band", "LTE bands", "Band 20", "frequency bands"],
  "Which LTE bands does the Skerrow Hub's modem support?",
  ["What LTE frequency bands can the hub's fallback modem use?", "Which mobile bands is the Skerrow Hub LTE modem certified for?"],
  ["Will the gateway's cellular backup work with my operator's frequencies, i.e. which bands are covered?", "List of supported cellular bands for the hub?"])
U("product", ["lithium", "alkaline", "CR2032", "AA", "chemistry"],
  "What battery chemistry does the Kestrane Probe battery pack use?",
  ["Is the probe battery lithium or alkaline?", "What type of cells are inside the Kestrane battery pack?"],
  ["Which kind of battery technology powers the sensor?", "Could I substitute ordinary shop batteries in the probe, i.e. what cell type is it?"])
U("product", ["processor", "CPU", "chipset", "RAM"],
  "What processor is inside the Skerrow Hub?",
  ["Which CPU does the Skerrow Hub use?", "What chipset powers the hub?"],
  ["How much computing power and memory does the gateway hardware have?", "Which microcontroller or SoC drives the hub?"])
U("policy", ["AWS", "Azure", "Google Cloud", "cloud provider", "hosting provider"],
  "Which cloud provider hosts Loomwright?",
  ["Is Loomwright hosted on AWS or Azure?", "Who is Loomwright's hosting provider?"],
  ["Which company's servers run the dashboard?", "Does the monitoring platform sit on one of the big public clouds, and which?"])
U("policy", ["Christmas", "holiday", "holidays", "New Year"],
  "Is support closed over Christmas?",
  ["What are the support hours during the holidays?", "Does the support line close between Christmas and New Year?"],
  ["At the end of December, will anyone answer my call?", "Does the helpdesk keep normal hours during the festive season?"])
U("policy", ["Japan", "Tokyo", "Australia"],
  "How long does delivery to Japan take?",
  ["What is the shipping time for orders going to Japan?", "How many days does a parcel to Tokyo need?"],
  ["If I'm ordering from East Asia, when would the box arrive?", "Transit time for a shipment to a Japanese address?"])
U("company", ["university", "studied", "graduated", "degree"],
  "Where did Ingrid Varnhagen study?",
  ["Which university did Tessavik's co-founder attend?", "What degree does Ingrid Varnhagen hold?"],
  ["What is the educational background of the company's founder?", "Where was the co-founder trained academically?"])
U("company", ["patent", "patents", "patented"],
  "How many patents does Tessavik hold?",
  ["Has Tessavik patented Skeinlink?", "What patents does Tessavik own?"],
  ["Is the company's radio technology protected by intellectual property filings?", "Count of granted inventions registered to the firm?"])
U("pricing", ["trade-in", "trade in"],
  "Can I trade in a competitor's sensor for credit?",
  ["Does Tessavik accept trade-ins of other brands' devices?", "Is there a trade-in offer for non-Tessavik equipment?"],
  ["If I hand over monitoring kit from another manufacturer, do I get money off?", "Will the company give credit for rival hardware?"])
U("product", ["watt", "watts", "power consumption"],
  "How many watts does the Skerrow Hub consume?",
  ["What is the power consumption of the Skerrow Hub?", "How much electricity does the hub draw?"],
  ["What will the gateway add to my energy bill, in terms of its draw?", "Average consumption of the hub in watts?"])
U("product", ["licence", "license", "open source", "open-source", "MIT"],
  "Under what licence is the Fennick CLI released?",
  ["Is Fennick open source?", "What software licence does Fennick use?"],
  ["Can I read and modify the command-line tool's source code legally?", "Which terms govern redistribution of the terminal client?"])
U("product", ["PDF"],
  "Can a Loomwright stave be exported as a PDF?",
  ["Is it possible to save a stave as a PDF file?", "Does Loomwright offer PDF export of dashboard pages?"],
  ["I want to email a snapshot of my charts as a document; can the dashboard produce one?", "Printable document output of a custom view: supported or not?"])
U("howto", ["webhook", "webhooks"],
  "How many times does Loomwright retry a failed webhook?",
  ["Does Loomwright support webhooks?", "What is the webhook retry policy?"],
  ["If my endpoint is down when an event fires, does the platform try again, and how often?", "Can the API push events to my server via HTTP callbacks?"])
U("pricing", ["free trial", "trial period"],
  "How long is the free trial of the Orchard plan?",
  ["Can I try Orchard for free before paying?", "Does Tessavik offer a trial period for Orchard?"],
  ["Before committing to the biggest plan, can I test it without charge, and for how long?", "Length of the no-cost evaluation of the top tier?"])
U("company", ["marketing"],
  "Who is Tessavik's head of marketing?",
  ["What is the name of the marketing director?", "Who runs marketing at Tessavik?"],
  ["Which person leads promotion and branding for the company?", "Name the manager in charge of advertising campaigns."])
U("company", ["VAT number", "VAT ID", "organisation number", "registration number"],
  "What is Tessavik's VAT number?",
  ["What VAT ID does Tessavik use on invoices?", "What is Tessavik's company registration number?"],
  ["For my accounts I need the firm's tax identification code; what is it?", "Which official business identifier is registered to the company?"])
U("company", ["cafeteria", "canteen", "lunch"],
  "Is there a canteen at the Castelbrune office?",
  ["Does the Castelbrune office have a cafeteria?", "Where do Castelbrune staff eat lunch?"],
  ["Can employees at the R&D site get a meal in the building?", "Is food served on the premises of the research office?"])
U("policy", ["Stripe", "Adyen", "Klarna", "payment processor"],
  "Which payment processor handles Tessavik card payments?",
  ["Does Tessavik use Stripe or Adyen?", "What company processes card payments for Tessavik?"],
  ["Who actually charges my card when I buy from the web shop?", "Name the firm that runs the checkout's card handling."])
U("product", ["cable length", "supplied cable", "included cable", "metre cable"],
  "How long is the Ethernet cable supplied with the Skerrow Hub?",
  ["What length of network cable comes in the Skerrow Hub box?", "Is an Ethernet cable included with the hub, and how long is it?"],
  ["Will the network lead that ships with the gateway reach my router ten metres away?", "Length of the wired network lead packed with the hub?"])
U("company", ["newsletter"],
  "How often does Tessavik send its newsletter?",
  ["Is there a Tessavik newsletter?", "How frequently do Tessavik newsletters go out?"],
  ["Can I subscribe to regular email updates from the company, and how often do they come?", "Cadence of the company's mailing list bulletins?"])
U("company", ["sponsor", "sponsors", "sponsorship"],
  "Does Tessavik sponsor any sports teams?",
  ["Which sports clubs does Tessavik sponsor?", "Is Tessavik a sponsor of any local team?"],
  ["Does the company's name appear on football shirts or similar?", "Which athletic clubs receive financial support from the firm?"])
U("company", ["logo"],
  "Who designed the Tessavik logo?",
  ["Which designer created Tessavik's logo?", "What is the story behind the Tessavik logo?"],
  ["Whose artwork became the company's emblem?", "Name the person or agency behind the brand mark."])
U("product", ["solar", "solar panel"],
  "Can the Kestrane Probe be powered by a solar panel?",
  ["Is there a solar charging option for probes?", "Does Tessavik sell a solar panel for the probe?"],
  ["Could sunlight keep the sensor's battery topped up outdoors?", "Is there a photovoltaic accessory for the probe?"])
U("product", ["warm-up", "warm up"],
  "How long is the Kestrane Probe's warm-up time after a battery change?",
  ["After swapping the battery, how long before the probe gives valid readings?", "What is the probe's warm-up period?"],
  ["Once I fit a fresh pack, when does the sensor start reporting trustworthy values?", "Delay until first reliable measurement following a battery swap?"])
U("product", ["Modbus", "BACnet"],
  "Does the Skerrow Hub support Modbus or BACnet?",
  ["Can the Skerrow Hub talk to our building management system over Modbus?", "Is BACnet supported by the hub?"],
  ["Could I plug the gateway into an industrial control network using a standard fieldbus protocol?", "Does the hub integrate with climate computers through common automation protocols?"])


# ===========================================================================
# ENGINE
# ===========================================================================
ROOT = Path(__file__).resolve().parent
KB = ROOT / "kb"
QA_PATH = ROOT / "qa.jsonl"
DOC_BY_ID = {d["id"]: d for d in DOCS}


def fact_values(ver: str) -> dict:
    vals = {}
    for f in FACTS:
        v = f["v1"] if ver == "v1" else f["v2"]
        if v is not None:
            vals[f["fid"]] = v
        if f["v1"] is not None:
            vals[f["fid"] + "__v1"] = f["v1"]
    return vals


def render_corpus(ver: str) -> dict:
    """Return {doc_id: file text} for one corpus version."""
    vals = fact_values(ver)
    out = {}
    for d in DOCS:
        if not d[ver]:
            continue
        body = (d["body"] if ver == "v1" else d["body_v2"]).format_map(vals)
        title = d["title"] if ver == "v1" else d["title_v2"]
        out[d["id"]] = f"---\nid: {d['id']}\ntitle: {title}\ntype: {d['type']}\n---\n{body}"
    return dict(sorted(out.items()))


def styled(style: str, value: str, doc_id: str) -> str:
    s = style.format(v=value)
    return s[0].upper() + s[1:] + f" [{doc_id}]."


def build_qa() -> list:
    recs = []
    for f in FACTS:
        ok1, ok2 = f["v1"] is not None, f["v2"] is not None
        docs1 = [f["doc"]] + f["also"] if ok1 else []
        docs2 = [f["doc"]] + f["also_v2"] if ok2 else []
        recs.append({
            "question": f["q"],
            "answer": f["v1"],
            "aliases": f["a"] if ok1 else [],
            "doc_ids": docs1,
            "paraphrases_train": f["t"],
            "paraphrases_heldout": f["h"],
            "answerable": ok1,
            "category": DOC_BY_ID[f["doc"]]["type"],
            "changed_in_v2": f["v1"] != f["v2"],
            "answer_v2": f["v2"],
            "aliases_v2": f["a2"] if ok2 else [],
            "doc_ids_v2": docs2,
            "answerable_v2": ok2,
            "styled_answer": styled(f["style"], f["v1"], docs1[0]) if ok1 else ABSTAIN,
            "styled_answer_v2": styled(f["style"], f["v2"], docs2[0]) if ok2 else None,
        })
    for u in UNANSWERABLE:
        recs.append({
            "question": u["q"], "answer": None, "aliases": [], "doc_ids": [],
            "paraphrases_train": u["t"], "paraphrases_heldout": u["h"],
            "answerable": False, "category": u["cat"], "changed_in_v2": False,
            "answer_v2": None, "aliases_v2": [], "doc_ids_v2": [], "answerable_v2": False,
            "styled_answer": ABSTAIN, "styled_answer_v2": None,
        })
    return [{"id": f"q{i:03d}", **r} for i, r in enumerate(recs, 1)]


def generate() -> dict:
    """Return {relative path: content} for every output file."""
    files = {}
    for ver in ("v1", "v2"):
        for did, text in render_corpus(ver).items():
            files[f"kb/{ver}/{did}.md"] = text
    files["qa.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in build_qa())
    return files


def on_disk() -> dict:
    files = {}
    for ver in ("v1", "v2"):
        d = KB / ver
        if d.is_dir():
            for p in sorted(d.glob("*.md")):
                files[f"kb/{ver}/{p.name}"] = p.read_text(encoding="utf-8")
    if QA_PATH.exists():
        files["qa.jsonl"] = QA_PATH.read_text(encoding="utf-8")
    return files


def write(files: dict) -> None:
    for ver in ("v1", "v2"):
        (KB / ver).mkdir(parents=True, exist_ok=True)
        for p in (KB / ver).glob("*.md"):
            if f"kb/{ver}/{p.name}" not in files:
                p.unlink()
    for rel, text in sorted(files.items()):
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


# ---------------------------------------------------------------------------
# quality checks
# ---------------------------------------------------------------------------
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.%-]*")


def body_of(text: str) -> str:
    return text.split("\n---\n", 1)[1]


def n_words(text: str) -> int:
    return len(WORD.findall(body_of(text)))


def ngrams(s: str, n: int = 5) -> set:
    toks = re.findall(r"[a-z0-9]+", s.lower())
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def quality(files: dict) -> tuple[list, list]:
    errors, warnings = [], []
    corp = {ver: {k.split("/")[-1][:-3]: v for k, v in files.items() if k.startswith(f"kb/{ver}/")}
            for ver in ("v1", "v2")}
    qa = [json.loads(line) for line in files["qa.jsonl"].splitlines()]
    keys = list(_DATA.QA_FIELDS)

    # documents ------------------------------------------------------------
    for ver, docs in corp.items():
        if not 40 <= len(docs) <= 80:
            errors.append(f"{ver}: {len(docs)} documents (need 40-80)")
        for did, text in docs.items():
            m = re.match(r"---\nid: (.*)\ntitle: (.*)\ntype: (.*)\n---\n# (.*)\n", text)
            if not m or m.group(1) != did or m.group(3) not in TYPES:
                errors.append(f"{ver}/{did}: bad front matter")
                continue
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", did):
                errors.append(f"{ver}/{did}: bad id")
            if m.group(2) != m.group(4) or ":" in m.group(2):
                errors.append(f"{ver}/{did}: title/H1 mismatch or colon in title")
            w = n_words(text)
            lo = 100 if m.group(3) == "faq" else 120
            if not lo <= w <= 500:
                errors.append(f"{ver}/{did}: {w} words (need {lo}-500)")
            if "{" in body_of(text) or "}" in body_of(text):
                errors.append(f"{ver}/{did}: unrendered placeholder")
    new_docs = set(corp["v2"]) - set(corp["v1"])
    if not any(DOC_BY_ID[d]["type"] == "product" for d in new_docs):
        errors.append("v2 has no new product document")
    if "end-of-life" not in corp["v2"].get("pelloway-dock", "").lower():
        errors.append("discontinued product has no end-of-life notice in v2")
    for did in set(corp["v1"]) & set(corp["v2"]):
        d = DOC_BY_ID[did]
        uses_changed = any(f["v1"] != f["v2"] and ("{" + f["fid"] + "}") in (d["body"] + d["body_v2"])
                           for f in FACTS)
        if not uses_changed and d["body"] == d["body_v2"] and corp["v1"][did] != corp["v2"][did]:
            errors.append(f"{did}: unchanged doc differs between v1 and v2")

    # QA records -----------------------------------------------------------
    seen_phr = {}
    for i, r in enumerate(qa, 1):
        rid = r.get("id")
        if list(r) != keys:
            errors.append(f"{rid}: key order {list(r)}")
        if rid != f"q{i:03d}":
            errors.append(f"{rid}: id out of order")
        phr = [r["question"]] + r["paraphrases_train"] + r["paraphrases_heldout"]
        if len(r["paraphrases_train"]) != 2 or len(r["paraphrases_heldout"]) != 2:
            errors.append(f"{rid}: need 2+2 paraphrases")
        if len({p.lower().strip() for p in phr}) != len(phr):
            errors.append(f"{rid}: duplicate phrasing within record")
        for p in phr:
            k = p.lower().strip()
            if k in seen_phr:
                errors.append(f"{rid}: phrasing duplicates {seen_phr[k]}: {p!r}")
            seen_phr[k] = rid
        tr = set().union(*(ngrams(p) for p in [r["question"]] + r["paraphrases_train"]))
        for p in r["paraphrases_heldout"]:
            if ngrams(p) & tr:
                errors.append(f"{rid}: held-out paraphrase shares a 5-word sequence with train: {p!r}")
        if r["category"] not in TYPES:
            errors.append(f"{rid}: bad category")
        for ver, ans_k, al_k, ids_k, ok_k, st_k in (
                ("v1", "answer", "aliases", "doc_ids", "answerable", "styled_answer"),
                ("v2", "answer_v2", "aliases_v2", "doc_ids_v2", "answerable_v2", "styled_answer_v2")):
            ans, ids = r[ans_k], r[ids_k]
            if r[ok_k]:
                if not ans or not ids:
                    errors.append(f"{rid}: answerable in {ver} but no answer/doc_ids")
                    continue
                if not 1 <= len(ans.split()) <= 6:
                    errors.append(f"{rid}: answer {ans!r} not 1-6 words")
                for did in ids:
                    if did not in corp[ver]:
                        errors.append(f"{rid}: {ver} doc {did} missing")
                    elif ans.lower() not in body_of(corp[ver][did]).lower():
                        errors.append(f"{rid}: {ver} answer {ans!r} not in {did}")
                st = r[st_k]
                if not (st and ans in st and st.endswith(f" [{ids[0]}].") and st.count(". ") == 0):
                    errors.append(f"{rid}: bad {st_k}: {st!r}")
                others = [d for d, t in corp[ver].items() if d not in ids and len(ans) >= 5
                          and re.search(r"(?<![\w.])" + re.escape(ans.lower()) + r"(?![\w])", body_of(t).lower())]
                if others:
                    warnings.append(f"{rid}: {ver} answer {ans!r} also appears in {others}")
            else:
                if ans is not None or r[al_k] or ids:
                    errors.append(f"{rid}: unanswerable in {ver} but has answer/aliases/doc_ids")
                want = ABSTAIN if ver == "v1" else None
                if r[st_k] != want:
                    errors.append(f"{rid}: {st_k} should be {want!r}")
        if r["changed_in_v2"] != (r["answer"] != r["answer_v2"]):
            errors.append(f"{rid}: changed_in_v2 inconsistent")
        if not r["changed_in_v2"] and (r["aliases"] != r["aliases_v2"] or r["doc_ids"] != r["doc_ids_v2"]):
            errors.append(f"{rid}: unchanged but v2 fields differ")

    # changed facts: old value gone from the v2 doc, new value present
    for f in FACTS:
        if f["v1"] is not None and f["v2"] is not None and f["v1"] != f["v2"] and not f["keep_old"]:
            for did in [f["doc"]] + f["also_v2"]:
                t = body_of(corp["v2"][did]).lower()
                if re.search(r"(?<![\w.,])" + re.escape(f["v1"].lower()) + r"(?![\w])", t):
                    errors.append(f"{f['fid']}: old value {f['v1']!r} still in v2 {did}")
        if f["v1"] is not None and f["v2"] is None:
            t = body_of(corp["v2"].get(f["doc"], "---\n")).lower()
            if f["v1"].lower() in t:
                errors.append(f"{f['fid']}: dropped value {f['v1']!r} still in v2 {f['doc']}")

    # unanswerable: key terms absent everywhere
    for u in UNANSWERABLE:
        for term in u["absent"]:
            pat = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.I)
            for ver, docs in corp.items():
                for did, t in docs.items():
                    if pat.search(body_of(t)):
                        errors.append(f"unanswerable {u['q']!r}: term {term!r} found in {ver}/{did}")

    # counts
    ans1 = [r for r in qa if r["answerable"]]
    unans = [r for r in qa if not r["answerable"] and not r["answerable_v2"]]
    changed = [r for r in ans1 if r["changed_in_v2"]]
    if len(ans1) < 160:
        errors.append(f"only {len(ans1)} answerable v1 questions (need 160)")
    if len(unans) < 35:
        errors.append(f"only {len(unans)} unanswerable questions (need 35)")
    if len(changed) < 0.2 * len(ans1):
        errors.append(f"only {len(changed)}/{len(ans1)} answerable questions change in v2 (need 20%)")
    if not any(not r["answerable"] and r["answerable_v2"] for r in qa):
        errors.append("no new-in-v2 questions")
    covered = {d for r in qa for d in r["doc_ids"]}
    missing = sorted(set(corp["v1"]) - covered)
    if missing:
        warnings.append(f"v1 docs without any question: {missing}")
    return errors, warnings


def stats(files: dict) -> str:
    qa = [json.loads(line) for line in files["qa.jsonl"].splitlines()]
    lines = []
    for ver in ("v1", "v2"):
        docs = {k: v for k, v in files.items() if k.startswith(f"kb/{ver}/")}
        words = [n_words(t) for t in docs.values()]
        types = {}
        for t in docs.values():
            ty = re.search(r"\ntype: (.*)\n", t).group(1)
            types[ty] = types.get(ty, 0) + 1
        lines.append(f"corpus {ver}: {len(docs)} documents, {sum(words)} words "
                     f"(min {min(words)}, median {sorted(words)[len(words) // 2]}, max {max(words)})")
        lines.append("  by type: " + ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
    same = sum(1 for k in files if k.startswith("kb/v1/") and files.get("kb/v2/" + k[6:]) == files[k])
    lines.append(f"documents identical in v1 and v2: {same}")
    a1 = sum(r["answerable"] for r in qa)
    a2 = sum(r["answerable_v2"] for r in qa)
    un = sum(1 for r in qa if not r["answerable"] and not r["answerable_v2"])
    ch = sum(1 for r in qa if r["answerable"] and r["changed_in_v2"])
    ch_val = sum(1 for r in qa if r["answerable"] and r["answerable_v2"] and r["changed_in_v2"])
    dropped = sum(1 for r in qa if r["answerable"] and not r["answerable_v2"])
    new = sum(1 for r in qa if not r["answerable"] and r["answerable_v2"])
    lines.append(f"questions: {len(qa)} total")
    lines.append(f"  answerable in v1: {a1}; answerable in v2: {a2}")
    lines.append(f"  unanswerable in both versions: {un}")
    lines.append(f"  answerable in v1 and changed in v2: {ch} ({100 * ch / a1:.1f}%): "
                 f"{ch_val} new value, {dropped} no longer stated (discontinued product)")
    lines.append(f"  new in v2 (unanswerable in v1): {new}")
    cats = {}
    for r in qa:
        cats[r["category"]] = cats.get(r["category"], 0) + 1
    lines.append("  by category: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())))
    n_ph = sum(1 + len(r["paraphrases_train"]) + len(r["paraphrases_heldout"]) for r in qa)
    lines.append(f"phrasings: {n_ph} (question + 2 train + 2 held-out paraphrases per record)")
    return "\n".join(lines)


def main(argv: list) -> int:
    files = generate()
    if "--stats" in argv:
        print(stats(files))
        return 0
    if "--check" in argv:
        disk = on_disk()
        problems = []
        for rel in sorted(set(files) | set(disk)):
            if rel not in disk:
                problems.append(f"missing on disk: data/{rel}")
            elif rel not in files:
                problems.append(f"stale file on disk: data/{rel}")
            elif files[rel] != disk[rel]:
                problems.append(f"differs from generator output: data/{rel}")
        errors, warnings = quality(files)
        for w in warnings:
            print("warning:", w)
        for p in problems + errors:
            print("error:", p)
        if problems:
            print("files on disk are out of date: run `python data/make_kb.py`")
        if problems or errors:
            return 1
        print(f"ok: {len(files)} files match the generator and pass all quality checks")
        return 0
    write(files)
    errors, warnings = quality(files)
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("error:", e)
    print(f"wrote {len(files)} files under {ROOT}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
