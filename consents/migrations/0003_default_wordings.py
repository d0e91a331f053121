"""Version 1 of the wordings shipped with salonconsent (salon empty): one per purpose and language.

The words are frozen here on purpose: once a client has been shown a wording, its text can never
change (SPEC §2). A new wording is a new version in a new migration, never an edit of this one.
"""

import hashlib

from django.db import migrations

VERSION = 1

# purpose -> language -> (title, text). Plain text, no HTML; "the salon" stays generic because the
# same words are shown for every salon, whose name is on the page around them.
WORDINGS = {
    "data_processing": {
        "en": (
            "Data processing",
            "The salon keeps your contact details and appointment history to manage your appointments. "
            "It uses them to send you booking confirmations, reminders, cancellation notices and requests to review your visit. "
            "This consent is optional and never a condition of booking. "
            "You can withdraw it at any time using the link in any message, or by asking the salon.",
        ),
        "it": (
            "Trattamento dei dati",
            "Il salone conserva i tuoi dati di contatto e lo storico dei tuoi appuntamenti per gestire le tue prenotazioni. "
            "Li utilizza per inviarti conferme, promemoria, avvisi di annullamento e richieste di recensione della tua visita. "
            "Il consenso al trattamento dei dati personali è facoltativo e non è mai una condizione per prenotare. "
            "Puoi revocarlo in qualsiasi momento tramite il link presente in ogni messaggio oppure rivolgendoti al salone.",
        ),
        "fr": (
            "Traitement des données",
            "Le salon conserve vos coordonnées et l'historique de vos rendez-vous afin de gérer vos réservations. "
            "Il les utilise pour vous envoyer les confirmations, les rappels, les notifications d'annulation et les invitations à donner votre avis sur votre visite. "
            "Le consentement au traitement des données est facultatif et n'est jamais une condition pour réserver. "
            "Vous pouvez le retirer à tout moment grâce au lien présent dans chaque message ou en vous adressant au salon.",
        ),
        "de": (
            "Datenverarbeitung",
            "Der Salon speichert Ihre Kontaktdaten und Ihre bisherigen Termine, um Ihre Buchungen zu verwalten. "
            "Damit schickt er Ihnen Terminbestätigungen, Erinnerungen, Hinweise zu Absagen und die Bitte um eine Bewertung Ihres Besuchs. "
            "Ihre Einwilligung in die Datenverarbeitung ist freiwillig und nie Voraussetzung für eine Buchung. "
            "Sie können sie jederzeit über den Link in jeder Nachricht oder direkt beim Salon widerrufen.",
        ),
        "fi": (
            "Henkilötietojen käsittely",
            "Salonki säilyttää yhteystietosi ja käyntihistoriasi ajanvaraustesi hoitamista varten. "
            "Niiden avulla se lähettää sinulle varausvahvistukset, muistutukset, peruutusilmoitukset ja pyynnöt arvioida käyntisi. "
            "Suostumus henkilötietojen käsittelyyn on vapaaehtoinen, eikä se ole koskaan ajanvarauksen ehto. "
            "Voit perua suostumuksesi milloin tahansa minkä tahansa viestin linkistä tai kertomalla siitä salongille.",
        ),
    },
    "service": {
        "en": (
            "Appointment updates",
            "The salon will send you updates about your appointments, including reminders and cancellations, "
            "on the channels you tick (text message, email or both). "
            "This consent is optional and never a condition of booking. "
            "You can withdraw it at any time using the link in any message, or by asking the salon.",
        ),
        "it": (
            "Comunicazioni di servizio",
            "Il salone ti invierà gli aggiornamenti sui tuoi appuntamenti, compresi promemoria e annullamenti, "
            "tramite i canali che selezioni (SMS, e-mail o entrambi). "
            "Questo consenso è facoltativo e non è mai una condizione per prenotare. "
            "Puoi revocarlo in qualsiasi momento tramite il link presente in ogni messaggio oppure rivolgendoti al salone.",
        ),
        "fr": (
            "Informations sur vos rendez-vous",
            "Le salon vous enverra les informations concernant vos rendez-vous, rappels et annulations compris, "
            "sur les canaux que vous cochez (SMS, e-mail ou les deux). "
            "Ce consentement est facultatif et n'est jamais une condition pour réserver. "
            "Vous pouvez le retirer à tout moment grâce au lien présent dans chaque message ou en vous adressant au salon.",
        ),
        "de": (
            "Informationen zu Ihren Terminen",
            "Der Salon schickt Ihnen Informationen zu Ihren Terminen, einschließlich Erinnerungen und Absagen, "
            "auf den Wegen, die Sie ankreuzen (SMS, E-Mail oder beides). "
            "Diese Einwilligung ist freiwillig und nie Voraussetzung für eine Buchung. "
            "Sie können sie jederzeit über den Link in jeder Nachricht oder direkt beim Salon widerrufen.",
        ),
        "fi": (
            "Viestit ajanvarauksistasi",
            "Salonki lähettää sinulle tietoa ajanvarauksistasi, myös muistutukset ja peruutukset, "
            "valitsemillasi kanavilla (tekstiviesti, sähköposti tai molemmat). "
            "Tämä suostumus on vapaaehtoinen, eikä se ole koskaan ajanvarauksen ehto. "
            "Voit perua suostumuksesi milloin tahansa minkä tahansa viestin linkistä tai kertomalla siitä salongille.",
        ),
    },
    "marketing": {
        "en": (
            "Marketing and promotions",
            "The salon will send you newsletters, promotions and special offers "
            "on the channels you tick (text message, email or both). "
            "This consent is optional and never a condition of booking. "
            "You can withdraw it at any time using the link in any message, or by asking the salon.",
        ),
        "it": (
            "Marketing e promozioni",
            "Il salone ti invierà newsletter, promozioni e offerte speciali "
            "tramite i canali che selezioni (SMS, e-mail o entrambi). "
            "Questo consenso è facoltativo e non è mai una condizione per prenotare. "
            "Puoi revocarlo in qualsiasi momento tramite il link presente in ogni messaggio oppure rivolgendoti al salone.",
        ),
        "fr": (
            "Marketing et promotions",
            "Le salon vous enverra des newsletters, des promotions et des offres spéciales "
            "sur les canaux que vous cochez (SMS, e-mail ou les deux). "
            "Ce consentement est facultatif et n'est jamais une condition pour réserver. "
            "Vous pouvez le retirer à tout moment grâce au lien présent dans chaque message ou en vous adressant au salon.",
        ),
        "de": (
            "Marketing und Werbeaktionen",
            "Der Salon schickt Ihnen Newsletter, Werbeaktionen und Sonderangebote "
            "auf den Wegen, die Sie ankreuzen (SMS, E-Mail oder beides). "
            "Diese Einwilligung ist freiwillig und nie Voraussetzung für eine Buchung. "
            "Sie können sie jederzeit über den Link in jeder Nachricht oder direkt beim Salon widerrufen.",
        ),
        "fi": (
            "Markkinointi ja tarjoukset",
            "Salonki lähettää sinulle uutiskirjeitä, kampanjoita ja erikoistarjouksia "
            "valitsemillasi kanavilla (tekstiviesti, sähköposti tai molemmat). "
            "Tämä suostumus on vapaaehtoinen, eikä se ole koskaan ajanvarauksen ehto. "
            "Voit perua suostumuksesi milloin tahansa minkä tahansa viestin linkistä tai kertomalla siitä salongille.",
        ),
    },
    "personalised": {
        "en": (
            "Personalised suggestions",
            "The salon will use your past treatments and purchases to send you suggestions and offers chosen for you. "
            "You receive them only on the channels where you have also accepted marketing. "
            "This consent is optional and never a condition of booking. "
            "You can withdraw it at any time using the link in any message, or by asking the salon.",
        ),
        "it": (
            "Suggerimenti personalizzati",
            "Il salone utilizzerà i tuoi trattamenti e acquisti precedenti per inviarti suggerimenti e offerte pensati per te. "
            "Li riceverai solo sui canali per cui hai accettato anche il marketing. "
            "Questo consenso è facoltativo e non è mai una condizione per prenotare. "
            "Puoi revocarlo in qualsiasi momento tramite il link presente in ogni messaggio oppure rivolgendoti al salone.",
        ),
        "fr": (
            "Suggestions personnalisées",
            "Le salon utilisera vos soins et achats précédents pour vous envoyer des suggestions et des offres qui vous correspondent. "
            "Vous ne les recevrez que sur les canaux pour lesquels vous avez aussi accepté le marketing. "
            "Ce consentement est facultatif et n'est jamais une condition pour réserver. "
            "Vous pouvez le retirer à tout moment grâce au lien présent dans chaque message ou en vous adressant au salon.",
        ),
        "de": (
            "Personalisierte Vorschläge",
            "Der Salon nutzt Ihre bisherigen Behandlungen und Einkäufe, um Ihnen passende Vorschläge und Angebote zu schicken. "
            "Sie erhalten diese nur auf den Wegen, auf denen Sie auch Marketing erlauben. "
            "Diese Einwilligung ist freiwillig und nie Voraussetzung für eine Buchung. "
            "Sie können sie jederzeit über den Link in jeder Nachricht oder direkt beim Salon widerrufen.",
        ),
        "fi": (
            "Henkilökohtaiset suositukset",
            "Salonki lähettää sinulle aiempien hoitojesi ja ostostesi perusteella valittuja ehdotuksia ja tarjouksia. "
            "Saat niitä vain kanavilla, joilla olet hyväksynyt myös markkinoinnin. "
            "Tämä suostumus on vapaaehtoinen, eikä se ole koskaan ajanvarauksen ehto. "
            "Voit perua suostumuksesi milloin tahansa minkä tahansa viestin linkistä tai kertomalla siitä salongille.",
        ),
    },
}


def digest(title, text):
    """The same formula as consents.models.wording_digest, copied so this migration stays frozen."""
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def create_default_wordings(apps, schema_editor):
    ConsentWording = apps.get_model("consents", "ConsentWording")
    existing = set(
        ConsentWording.objects.filter(salon__isnull=True, version=VERSION).values_list("purpose", "language")
    )
    ConsentWording.objects.bulk_create(
        ConsentWording(
            salon=None, purpose=purpose, language=language, version=VERSION,
            title=title, text=text, sha256=digest(title, text),
        )
        for purpose, by_language in WORDINGS.items()
        for language, (title, text) in by_language.items()
        if (purpose, language) not in existing
    )


def delete_default_wordings(apps, schema_editor):
    # Only the shipped defaults of this version; a wording already referenced by the register is
    # protected (on_delete=PROTECT) and makes the reversal fail rather than lose proof of consent.
    ConsentWording = apps.get_model("consents", "ConsentWording")
    ConsentWording.objects.filter(
        salon__isnull=True, version=VERSION, purpose__in=list(WORDINGS),
        language__in=sorted({language for by_language in WORDINGS.values() for language in by_language}),
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consents", "0002_register_is_append_only")]

    operations = [
        migrations.RunPython(create_default_wordings, delete_default_wordings, elidable=False),
    ]
