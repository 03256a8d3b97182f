"""Writes the dental clinic's static pages (bench/corpora/dental/*.html) from PAGES below.

A fictional small clinic written for bench/answer_quality.py: the answerer has never seen it.
Run once after editing: python bench/corpora/dental/_gen.py
"""

from pathlib import Path

HERE = Path(__file__).parent
NAV_EN = [
    ("index.html", "Home"),
    ("treatments.html", "Treatments"),
    ("prices.html", "Prices"),
    ("booking.html", "Booking"),
    ("emergency.html", "Emergency"),
    ("children.html", "Children"),
    ("faq.html", "FAQ"),
    ("shop.html", "Shop"),
    ("team.html", "Team"),
    ("contact.html", "Contact"),
    ("fi/index.html", "Suomeksi"),
]
NAV_FI = [
    ("index.html", "Etusivu"),
    ("hinnasto.html", "Hinnasto"),
    ("ajanvaraus.html", "Ajanvaraus"),
    ("paivystys.html", "Päivystys"),
    ("lapset.html", "Lapset"),
    ("../index.html", "In English"),
]

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} | {brand}</title></head>
<body><header><a href="{home}">{brand}</a><nav><ul>{nav}</ul></nav></header>
<main><h1>{title}</h1>
{body}
</main>
<footer>{footer}</footer></body></html>
"""

EN = {
    "index.html": (
        "Lakeside Dental Clinic",
        """
<p>Lakeside Dental is a small family dental clinic in Kuopio with three dentists and two dental hygienists. We treat adults and children from the age of two.</p>
<h2 id="why-us">Why patients choose us</h2>
<p>Unhurried appointments: a check-up lasts 45 minutes, not 20. We explain every treatment and its price before we start.</p>
<h2 id="location">Location</h2>
<p>We are on the second floor of the Kauppakatu 21 building, next to the market square. There is a lift, and the clinic is accessible by wheelchair.</p>
""",
    ),
    "treatments.html": (
        "Treatments",
        """
<h2 id="check-up">Check-up</h2>
<p>A check-up includes an examination of teeth and gums, an oral cancer screening and, when needed, bite-wing X-rays. We recommend a check-up once a year for most adults.</p>
<h2 id="cleaning">Cleaning by a hygienist</h2>
<p>A hygienist removes tartar and stains and shows you how to clean between your teeth. Most patients need a cleaning every 12 to 18 months.</p>
<h2 id="fillings">Fillings</h2>
<p>We use tooth-coloured composite fillings only; we do not place amalgam fillings.</p>
<h2 id="root-canal">Root canal treatment</h2>
<p>A root canal treatment removes infected pulp from inside the tooth. It usually takes two or three visits of about an hour each, and the tooth is numbed so the treatment is not painful.</p>
<h2 id="whitening">Teeth whitening</h2>
<p>Home whitening uses custom trays and gel for two weeks. In-clinic whitening takes 90 minutes. Whitening does not change the colour of fillings or crowns.</p>
<h2 id="sedation">Nervous patients</h2>
<p>If you are afraid of the dentist, tell us when booking. We can book a longer appointment, and mild sedation with a tablet is available for adults; you must then not drive on the same day.</p>
""",
    ),
    "prices.html": (
        "Prices",
        """
<p>Prices include the dentist's fee. X-rays and materials are included unless stated.</p>
<h2 id="basic-care">Basic care</h2>
<table>
<tr><th>Treatment</th><th>Price</th></tr>
<tr><td>Check-up</td><td>69 €</td></tr>
<tr><td>Cleaning by a hygienist</td><td>95 €</td></tr>
<tr><td>Small filling</td><td>110 €</td></tr>
<tr><td>Large filling</td><td>180 €</td></tr>
<tr><td>Tooth extraction</td><td>150 €</td></tr>
</table>
<h2 id="larger-treatments">Larger treatments</h2>
<p>Root canal treatment costs 420 to 690 euros depending on the number of roots. A porcelain crown costs 890 euros. A dental implant with its crown costs 2,300 euros.</p>
<h2 id="whitening-prices">Whitening</h2>
<p>Home whitening costs 290 euros and in-clinic whitening 450 euros.</p>
<h2 id="kela">Kela reimbursement</h2>
<p>Kela reimburses part of the examination and basic treatment fees for people with Finnish health insurance; the reimbursement is deducted at the clinic when you show your Kela card. Whitening is not reimbursed.</p>
<h2 id="fees">Other fees</h2>
<p>An appointment cancelled less than 24 hours before, or missed, is charged 45 euros. Copies of X-ray images cost 15 euros.</p>
""",
    ),
    "booking.html": (
        "Booking and cancellation",
        """
<h2 id="how-to-book">How to book</h2>
<p>Book online at any time, or call +358 17 555 0200 on weekdays between 8 and 16. New patients fill in a health questionnaire online before the first visit.</p>
<h2 id="cancel">Cancelling or changing an appointment</h2>
<p>Cancel or move your appointment at least 24 hours in advance, online or by phone. Later cancellations and missed appointments are charged 45 euros.</p>
<h2 id="payment">Payment</h2>
<p>We accept debit and credit cards, MobilePay and invoice. An invoice has 14 days to pay. Treatments over 500 euros can be paid in three monthly instalments without interest.</p>
<h2 id="referrals">Referrals</h2>
<p>You do not need a referral to book with us. We refer patients to an oral surgeon when needed.</p>
""",
    ),
    "emergency.html": (
        "Toothache and emergencies",
        """
<h2 id="same-day">Same-day emergency appointments</h2>
<p>If you have a toothache, a swollen cheek or a broken tooth, call us at 8:00. We keep emergency slots free every weekday, and emergency patients are seen the same day.</p>
<h2 id="after-hours">Evenings and weekends</h2>
<p>Outside our opening hours, call the emergency line on +358 17 555 0299. On weekends the line is answered from 9 to 15 and directs you to the regional on-call dentist.</p>
<h2 id="knocked-out">A knocked-out tooth</h2>
<p>Hold the tooth by the crown, not the root, keep it in milk and come to a dentist within one hour.</p>
<h2 id="pain-relief">Before your appointment</h2>
<p>Ibuprofen or paracetamol help with dental pain. Do not put aspirin on the gum. A cold compress reduces swelling.</p>
""",
    ),
    "children.html": (
        "Children and families",
        """
<h2 id="first-visit">The first visit</h2>
<p>We see children from the age of two. The first visit is short and playful: the child sits in the chair, we count the teeth and give a new toothbrush.</p>
<h2 id="child-prices">Prices for children</h2>
<p>A child's check-up costs 45 euros. Fluoride varnish is included in the check-up.</p>
<h2 id="parents">Parents in the room</h2>
<p>A parent is welcome to stay with the child during the whole visit. Brothers and sisters may come along too.</p>
<h2 id="sealants">Fissure sealants</h2>
<p>We recommend sealants on the permanent back teeth at around the age of six to protect them from decay.</p>
""",
    ),
    "faq.html": (
        "Frequently asked questions",
        """
<h2 id="parking">Is there parking?</h2>
<p>Yes, the Kauppakatu car park across the street has 2 hours free parking with the clinic's ticket stamp.</p>
<h2 id="toddler">Can I bring a small child to my own appointment?</h2>
<p>Yes, children from age 2 can wait in our play corner, but a second adult must look after them during your treatment.</p>
<h2 id="languages">Which languages do you speak?</h2>
<p>Our dentists speak Finnish, English and Swedish, and Dr. Rahimi also speaks Persian.</p>
<h2 id="pregnancy">Can I have dental treatment while pregnant?</h2>
<p>Yes. Check-ups and fillings are safe during pregnancy; tell us you are pregnant so we can avoid X-rays unless they are needed.</p>
<h2 id="insurance">Do you accept private insurance?</h2>
<p>Yes, we invoice the insurers If, LähiTapiola and Pohjola directly when you bring a payment commitment.</p>
<h2 id="wisdom">Do you remove wisdom teeth?</h2>
<p>Yes, we remove wisdom teeth that have come through. Impacted wisdom teeth are removed by an oral surgeon we refer you to.</p>
""",
    ),
    "shop.html": (
        "Online shop",
        """
<p>We sell the care products we recommend in the clinic and online.</p>
<h2 id="toothbrushes">Electric toothbrushes</h2>
<p>The SonicCare 300 costs 59 euros: it has one cleaning mode and a battery that lasts two weeks. The SonicCare 500 costs 99 euros: it has three modes, a pressure sensor and a battery that lasts four weeks.</p>
<h2 id="other-products">Other products</h2>
<p>Interdental brushes cost 6 euros a pack, and fluoride toothpaste 5 euros.</p>
<h2 id="delivery">Delivery</h2>
<p>Orders are posted within two working days; postage is 4.90 euros and free for orders over 40 euros. You can also collect your order at the clinic.</p>
<h2 id="returns">Returns</h2>
<p>You can return unopened products bought online within 14 days of receiving them; we refund the price within a week of getting the product back. For hygiene reasons opened toothbrushes cannot be returned.</p>
""",
    ),
    "team.html": (
        "Our team",
        """
<h2 id="dentists">Dentists</h2>
<p>Dr. Liisa Korhonen founded the clinic in 2009 and specialises in root canal treatment. Dr. Omid Rahimi treats children and nervous patients. Dr. Anna Berg does crowns, bridges and implants.</p>
<h2 id="hygienists">Dental hygienists</h2>
<p>Sari and Johanna do cleanings, whitening and advice on home care.</p>
<h2 id="jobs">Working with us</h2>
<p>We are looking for a dental assistant for a permanent full-time job. Send your application to jobs@lakesidedental.example.</p>
""",
    ),
    "contact.html": (
        "Contact and opening hours",
        """
<h2 id="opening-hours">Opening hours</h2>
<p>The clinic is open Monday to Thursday 8–18 and Friday 8–15. On Saturdays we are closed, except on the first Saturday of each month, when we are open 9–13 for check-ups only.</p>
<h2 id="phone">Phone and e-mail</h2>
<p>Bookings: +358 17 555 0200 (weekdays 8–16). E-mail: info@lakesidedental.example; we reply within one working day. Do not send health information by e-mail.</p>
<h2 id="address">Address</h2>
<p>Lakeside Dental Oy, Kauppakatu 21 B, 2nd floor, 70100 Kuopio. Bus lines 2 and 9 stop in front of the building.</p>
<h2 id="holidays">Holidays</h2>
<p>The clinic is closed on public holidays and for two weeks in July.</p>
""",
    ),
}

FI = {
    "index.html": (
        "Hammasklinikka Lakeside",
        """
<p>Lakeside on pieni perhehammaslääkäriasema Kuopiossa. Meillä työskentelee kolme hammaslääkäriä ja kaksi suuhygienistiä. Hoidamme aikuisia ja lapsia kahden vuoden iästä alkaen.</p>
<h2 id="sijainti">Sijainti</h2>
<p>Olemme Kauppakatu 21:n toisessa kerroksessa torin vieressä. Talossa on hissi.</p>
<h2 id="aukiolo">Aukioloajat</h2>
<p>Olemme avoinna maanantaista torstaihin 8–18 ja perjantaisin 8–15. Lauantaisin olemme kiinni, paitsi kuukauden ensimmäisenä lauantaina klo 9–13.</p>
""",
    ),
    "hinnasto.html": (
        "Hinnasto",
        """
<h2 id="perushoito">Perushoito</h2>
<p>Tarkastus maksaa 69 euroa ja suuhygienistin puhdistus 95 euroa. Pieni paikkaus maksaa 110 euroa ja hampaan poisto 150 euroa.</p>
<h2 id="juurihoito">Juurihoito ja kruunut</h2>
<p>Juurihoito maksaa 420–690 euroa juurien määrän mukaan. Posliinikruunu maksaa 890 euroa ja implantti kruunuineen 2 300 euroa.</p>
<h2 id="valkaisu">Valkaisu</h2>
<p>Kotivalkaisu maksaa 290 euroa ja vastaanotolla tehtävä valkaisu 450 euroa.</p>
<h2 id="kela-korvaus">Kela-korvaus</h2>
<p>Kela korvaa osan tutkimus- ja perushoitomaksuista. Korvaus vähennetään suoraan laskusta, kun näytät Kela-korttisi.</p>
""",
    ),
    "ajanvaraus.html": (
        "Ajanvaraus",
        """
<h2 id="varaa">Ajan varaaminen</h2>
<p>Varaa aika verkossa milloin tahansa tai soita numeroon 017 555 0200 arkisin klo 8–16.</p>
<h2 id="peruutus">Peruutukset</h2>
<p>Peru tai siirrä aikasi viimeistään vuorokautta ennen. Myöhemmin perutuista ja käyttämättä jääneistä ajoista veloitamme 45 euroa.</p>
<h2 id="maksaminen">Maksaminen</h2>
<p>Voit maksaa kortilla, MobilePaylla tai laskulla. Yli 500 euron hoidot voi maksaa kolmessa erässä korotta.</p>
""",
    ),
    "paivystys.html": (
        "Päivystys ja hammassärky",
        """
<h2 id="sama-paiva">Särkypotilaat samana päivänä</h2>
<p>Jos sinulla on hammassärky, turvonnut poski tai lohjennut hammas, soita meille klo 8. Pidämme joka arkipäivä vapaita päivystysaikoja, ja särkypotilaat hoidetaan samana päivänä.</p>
<h2 id="iltaisin">Illat ja viikonloput</h2>
<p>Aukioloaikojen ulkopuolella soita päivystysnumeroon 017 555 0299. Viikonloppuisin numero vastaa klo 9–15.</p>
""",
    ),
    "lapset.html": (
        "Lapset",
        """
<h2 id="ensikaynti">Ensimmäinen käynti</h2>
<p>Hoidamme lapsia kahden vuoden iästä alkaen. Ensimmäinen käynti on lyhyt ja leikkisä.</p>
<h2 id="lasten-hinnat">Lasten hinnat</h2>
<p>Lapsen tarkastus maksaa 45 euroa, ja fluorilakkaus sisältyy hintaan.</p>
<h2 id="vanhemmat">Vanhemmat mukana</h2>
<p>Vanhempi voi olla lapsen kanssa koko käynnin ajan.</p>
""",
    ),
}


def nav_html(items, current):
    return "".join(f'<li><a href="{href}">{label}</a></li>' for href, label in items)


for name, (title, body) in EN.items():
    (HERE / name).write_text(
        PAGE.format(
            lang="en",
            title=title,
            brand="Lakeside Dental",
            home="index.html",
            nav=nav_html(NAV_EN, name),
            body=body.strip(),
            footer="Lakeside Dental Oy · Kauppakatu 21 B, 70100 Kuopio · A fictional clinic written for Cloop's benchmark.",
        )
    )
for name, (title, body) in FI.items():
    (HERE / "fi" / name).write_text(
        PAGE.format(
            lang="fi",
            title=title,
            brand="Hammasklinikka Lakeside",
            home="index.html",
            nav=nav_html(NAV_FI, name),
            body=body.strip(),
            footer="Lakeside Dental Oy · Kauppakatu 21 B, 70100 Kuopio · Kuvitteellinen klinikka Cloopin mittausta varten.",
        )
    )
