"""Words of a language that the verifier treats apart, per language, written out by hand.

* Negations turn a sentence into its opposite: a copy that adds or drops one is kept.
* Determiners (articles, demonstratives) point at the same thing when one stands in place of
  another ("ces" / "des", "the" / "this").
* Function words (the closed classes: pronouns, prepositions, conjunctions, auxiliaries and
  modals, a few adverbs of degree and time) change nothing a line names when one more or
  less is written. A word of four letters or more that is not among them ("cheap",
  "optional", "provided") is taken for a content word: in a line of fewer than
  :data:`~dedup.verify.SHORTISH` words, one added or dropped inside makes another thing
  ("the best cheap live TV streaming service").
* Kinds of page (a test, a quiz, an FAQ) that a label in front of a heading names: another
  page than the heading alone ("Test: Values and units" beside the lesson).
* Words that name a model or an edition in product names ("Pro", "Plus", "Kids"), the same
  in every language's pages: capitalized, one more or less names another product.

Lists exist for languages written in Latin, Cyrillic and Greek letters; a word of another
script is not judged by them (:func:`content_word` answers False): there a dropped or added
word counts as a small edit, as before the lists.

Words that reverse or restrict what is said ("without", "against", "only", "except") are
in no list of function words: adding one changes the meaning.
"""

from __future__ import annotations

from dedup.lazy import lazy_regex

_NEGATIONS_BY_LANGUAGE = {
    "en": "not no never nor none nobody nothing neither",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals",
    "fr": "ne pas jamais aucun aucune rien",
    "es": "nunca nada ningun ninguna ningún nadie",
    "pt": "nao não nem",
    "it": "non mai nessuno niente",
    "pl": "nie żaden nigdy nikt nic",
    "ru": "не ни нет никогда никто ничего нигде",
    "uk": "не ні немає ніколи ніхто нічого",
    "el": "δεν μην όχι ποτέ κανείς καμία κανένα τίποτα",
    "nl": "niet geen nooit",
    "nordic": "ikke inte ingen aldri aldrig ei eikä",
    "hu": "nem soha sem",
    "id": "tidak bukan jangan belum",
    "vi": "không chẳng chưa",
    "tr": "değil hiç hiçbir kimse",
}


def _folded(lists: dict[str, str]) -> frozenset[str]:
    """The words of all ``lists``, case-folded as tokens are ("όπως" is "όπωσ", "daß" is
    "dass")."""
    return frozenset(word.casefold() for words in lists.values() for word in words.split())


#: Words that turn a sentence into its opposite: a copy that adds or drops one is kept.
NEGATIONS = _folded(_NEGATIONS_BY_LANGUAGE)

_DETERMINERS_BY_LANGUAGE = {
    "en": "the a an this that these those",
    "de": "der die das den dem des ein eine einen einem einer eines dieser diese dieses",
    "fr": "le la les l un une des du de ce cet cette ces",
    "es": "el la los las un una unos unas este esta estos estas",
    "pt": "o a os as um uma uns umas este esta estes estas",
    "it": "il lo la i gli le l un uno una questo questa questi queste",
    "nl": "de het een deze dit die dat",
}
#: Articles and demonstratives: one put in place of another ("ces" / "des", "the" / "this")
#: points at the same thing, in a paragraph long enough to say which.
DETERMINERS = _folded(_DETERMINERS_BY_LANGUAGE)

# Words of three letters or fewer need no entry (they count as small anyway).
_FUNCTION_WORDS_BY_LANGUAGE = {
    "en": """with from into onto upon about above after before below between during through
        under over across along around within that this these those their theirs there them
        they then than were been have having does doing done will would shall should could
        might must also just very such each some your yours ours mine itself himself herself
        themselves yourself which what when where whom whose while because although though
        whether unless until since well even still here other another same both many much more
        most being""",
    "de": """oder aber sondern denn dass daß weil wenn also auch noch schon sehr mehr dann doch
        ganz hier dort diese dieser dieses diesem diesen jene jener jenes sein seine seiner
        seinem seinen seines ihre ihrer ihrem ihren ihres meine meiner meinem meinen unser
        unsere unserer unseren unserem euer eure deren dessen welche welcher welches welchem
        welchen eine einen einem einer eines haben habe hatte hatten wird werden wurde wurden
        worden sind waren kann können konnte konnten muss müssen musste soll sollen sollte
        sollten will wollen würde würden nach über unter durch vom zum zur beim seit während
        wegen zwischen hinter neben sich selbst etwas alle allen aller alles jede jeder jedes
        jedem jeden viele vielen einige dabei damit dafür darauf daran davon dazu bereits immer
        jetzt wieder sowie bzw eben""",
    "fr": """avec pour dans sous vers chez entre depuis pendant avant après leur leurs votre
        notre cette ceux celle celles celui dont mais donc comme aussi très plus tout tous
        toute toutes être avoir sont était étaient sera seront fait peut peuvent elle elles
        nous vous même autre autres quand lorsque puis alors ainsi encore déjà bien cela ceci
        quel quelle quels quelles chaque plusieurs afin selon auprès parmi""",
    "es": """para como pero porque cuando donde desde hasta entre sobre tras hacia según
        durante mediante esta este esto estos estas aquel aquella nuestro nuestra nuestros
        nuestras cual cuales quien quienes también más todo toda todos todas otro otra otros
        otras mismo misma cada ser estar está están eran será fueron sido haber había puede
        pueden ellos ellas nosotros ella usted ustedes aunque sino pues así bien tanto dicho
        dicha tiene tienen""",
    "pt": """para como porque quando onde desde até entre sobre pela pelo pelas pelos numa esta
        este isto essa esse isso aquele aquela nosso nossa qual quais quem também muito muita
        muitos muitas mais todo toda todos todas outro outra outros outras mesmo mesma cada
        estar está estão foram sido pode podem ainda assim então você vocês eles elas seja
        sejam será""",
    "it": """come però perché quando dove sulla sullo sulle sugli della dello delle degli nella
        nello nelle negli alla allo alle agli dalla dallo dalle dagli questo questa questi
        queste quello quella quelli quelle suoi loro nostro nostra quale quali anche molto
        molta molti molte più tutto tutta tutti tutte altro altra altri altre stesso stessa
        ogni essere sono stato stata sarà avere hanno aveva può possono egli ella essi esse
        ancora così allora mentre oppure dopo prima""",
    "nl": """voor naar over door onder tussen zijn haar deze welke waar wanneer maar want omdat
        nog meer heel zeer alle elke ieder andere wordt worden werd werden kunnen moet moeten
        zullen zou zouden heeft hebben hadden waren jullie zich zelf""",
    "pl": """oraz jest będzie może można który która które którego której którym których jego
        tego przez przy przed między podczas jako także już jeszcze bardzo więc albo kiedy
        gdzie swój swoje swojej swoich swoim każdy każda każde każdego wszystkie jednak
        wszystko wszystkich inne innych żeby jeśli jeżeli ponieważ była było były""",
    "cs": """jsou jako také nebo který která které kterého jeho její jejich tento tato toto
        tyto před mezi během bude budou byla bylo byly může mohou již ještě velmi když svůj své
        svého každý všechny všech""",
    "nordic": """och att det som för med till från den har hade kan ska skall skulle kunna vara
        blir blev eller även också mycket alla andra sina deras hans hennes dess denna detta
        dessa vilken vilket vilka hur vad efter innan över mellan genom enligt skal ville være
        blev eller også meget mye sitt sine hvilken hvor hvordan hva hvad når etter efter
        mellom gjennom ifølge""",
    "fi": """että joka jotka jonka joiden mutta sekä myös ovat olla olivat ollut hänen heidän
        niiden tämä tämän tätä nämä mikä mitä kuin vielä hyvin kaikki kaikkien jokainen
        jokaisella jokaisen muut muiden oman omaa kanssa mukaan aikana kautta lisäksi voidaan
        tulee siitä siihen siinä sitä niin sillä miten koska välillä kuten noin""",
    "hu": """hogy vagy volt mint még amely amelyek akik amit ezek azok ennek annak minden
        mindenki mindenkinek lesz lehet kell nagyon szerint között után előtt alatt felett
        által számára részére pedig valamint illetve saját többi ahol amikor akkor addig
        amelyik majd mert egyik másik közben""",
    "id": """yang dari untuk dengan dalam pada oleh akan adalah ialah merupakan juga atau
        tetapi namun karena sebagai bagi tersebut dapat bisa sudah telah masih lebih sangat
        setiap semua para mereka kami kita saya anda seperti antara hingga sampai secara serta
        maupun harus bahwa jika kalau ketika saat agar supaya sehingga menjadi setelah kepada""",
    "tr": """için gibi kadar daha olan olarak olduğu olması veya ama fakat ancak göre sonra
        önce kendi kendisi onun onların bunun diğer bütün herkes herhangi işbu içinde""",
    "vi": """được những trong người của cho với các này theo như hoặc cũng đều mọi rằng khi nếu
        thì đang để tại bởi vào nhưng trên dưới""",
    "ru": """что как для при под над перед через между после также тоже или если когда где
        который которая которое которые которого которой которых его этот эта это эти этого
        этой этих того свой своего своей свои своих каждый каждого каждая все всех всё весь вся
        быть был была было были будет будут является может могут должен должна должны должно
        можно имеет очень более уже еще ещё чтобы потому она они оно себя себе""",
    "uk": """від для при під над перед через між після також або але якщо коли який яка яке які
        якого якої яких його цей цього цієї цих того свій свого своєї свої своїх кожен кожна
        кожного кожної всіх весь бути були буде будуть може можуть повинен повинна повинні разі
        дуже більш вона вони воно йому себе собі якому якій""",
    "el": """και του της των τις τους την τον στο στη στην στον στα στις στους από για που
        είναι αλλά όπως κάθε όλοι όλα όλες οποίο οποία οποίοι αυτό αυτή αυτός αυτά αυτές αυτών
        έχει έχουν ένα μια μία ενός μιας προς κατά μετά πριν μεταξύ επίσης μπορεί πρέπει""",
}
#: Function words of four letters or more (see the module's docstring).
FUNCTION_WORDS = _folded(_FUNCTION_WORDS_BY_LANGUAGE) | DETERMINERS

_HANGING_BY_LANGUAGE = {
    "en": "the a an and or but nor of to for with from into onto than",
    "de": "der die das den dem des eine einen einem einer eines und oder aber von für",
    "fr": "le la les un une des du de et ou mais pour avec dans sur par",
    "es": "el la los las un una unos unas y e o u pero de del para con por",
    "pt": "o a os as um uma e ou mas de do da dos das para com por",
    "it": "il lo la i gli le un uno una e o ma di del della per con",
    "nl": "de het een en of maar van met naar",
    "pl": "i oraz lub albo ale w we z ze do na dla od",
    "ru": "и или но а в во на с со к ко по для от из",
    "uk": "і й та або але в у на з зі до по для від",
    "el": "ο η το οι τα του της των ένα μια και ή αλλά σε από για με",
}
#: Words a sentence cannot stop on (articles, conjunctions, prepositions that are no
#: particle: "of", not "in" as in "Log in", nor German "aus", "zu", "ein" or Dutch "voor",
#: which end a sentence whose verb they belong to): a line that ends in one goes on in the
#: next, whatever that starts with ("... server and" / "Django can't ...").
HANGING = _folded(_HANGING_BY_LANGUAGE)

_PAGES_BY_LANGUAGE = {
    "en": "test quiz exam exercise exercises challenge assessment faq faqs q&a",
    "de": "test quiz prüfung übung übungen aufgabe aufgaben",
    "fr": "quiz examen exercice exercices défi",
    "es": "examen ejercicio ejercicios prueba cuestionario",
    "it": "esame esercizio esercizi",
    "pt": "exame exercício exercícios prova",
    "nl": "toets oefening oefeningen",
}
#: Kinds of page that a label in front of a heading names, another page than the heading's
#: own: a test, a quiz, an FAQ ("Test: Values and units" in a course's menu, beside the
#: lesson "Values and units"). Not a link's verb nor a section's name ("Read full article:",
#: "Overview:"), which lead to the same page.
PAGES = _folded(_PAGES_BY_LANGUAGE)

#: Words that name a model or an edition in product names, whatever the page's language
#: ("... Utility Pro 300W ...", "AdBlock Plus", "... Helmet - Kids'"): a line one of them
#: more or less names another product.
MODELS = _folded({"en": "pro plus mini max ultra lite eco kids junior jr xl xxl deluxe"})

#: Scripts whose languages have lists above.
_LISTED_SCRIPT = lazy_regex(r"[\p{Latin}\p{Cyrillic}\p{Greek}]")


def content_word(word: str) -> bool:
    """Whether ``word`` (a token, in lower case) names something: four letters or more, not
    a function word, not a number, in a script the lists cover.

    >>> content_word("cheap"), content_word("with"), content_word("the"), content_word("2024")
    (True, False, False, False)
    """
    if len(word) <= 3 or word in FUNCTION_WORDS or word in NEGATIONS or not word.isalpha():
        return False
    return _LISTED_SCRIPT.match(word) is not None
