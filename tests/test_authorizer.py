"""The core every front end shares: what goes on a request, after a rejection, and why."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from authadapter import (
    Authorizer,
    BasicCredential,
    BearerToken,
    CondaToken,
    Failure,
    Found,
    LookupResult,
    Miss,
    Origin,
    Provider,
)


class Answers(Provider):
    """A provider that gives one fixed answer, or the next of a list, and counts its calls."""

    def __init__(self, name: str, *results: LookupResult) -> None:
        self.name = name
        self.results = list(results)
        self.calls = 0

    def lookup(self, origin: Origin, url: str) -> LookupResult:
        self.calls += 1
        return self.results[min(self.calls, len(self.results)) - 1]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authorizer(*providers: Provider, **options: object) -> Authorizer:
    return Authorizer(providers, config=False, **options)  # type: ignore[arg-type]


# deciding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "url", "header"),
    [
        (BearerToken("tok-123456"), None, "Bearer tok-123456"),
        (BasicCredential("me", "pw-123456"), None, "Basic bWU6cHctMTIzNDU2"),
        (CondaToken("ct-123456"), "https://repo.example.org/t/ct-123456/ch/x.json", None),
    ],
)
def test_a_decision_says_what_to_change_in_the_request(
    credential: BearerToken | BasicCredential | CondaToken, url: str | None, header: str | None
) -> None:
    core = authorizer(Answers("store", Found(credential, "store")))

    decision = core.decide("https://repo.example.org/ch/x.json")

    assert (decision.url, decision.authorization) == (url, header)
    assert decision.credential == credential


@pytest.mark.parametrize(
    ("url", "has_authorization", "header"),
    [
        ("https://repo.example.org/x", True, None),
        ("https://me:pw-123456@repo.example.org/x", False, "Basic bWU6cHctMTIzNDU2"),
        ("https://repo.example.org/t/own-123456/x", False, None),
    ],
)
def test_a_request_with_its_own_credentials_is_left_alone(
    url: str, has_authorization: bool, header: str | None
) -> None:
    store = Answers("store", Found(BearerToken("ours-123456"), "store"))

    decision = authorizer(store).decide(url, has_authorization)

    assert decision.url is None
    assert decision.authorization == header  # URL userinfo is sent as the caller wrote it
    assert decision.credential is None
    assert store.calls == 0


def test_plain_http_gets_nothing_unless_allowed() -> None:
    store = Answers("store", Found(BearerToken("tok-123456"), "store"))

    refused = authorizer(store).decide("http://repo.example.org/x")
    allowed = authorizer(store, allow_http_hosts=["repo.example.org"]).decide(
        "http://repo.example.org/x"
    )

    assert refused.authorization is None
    assert refused.withheld is not None
    assert allowed.authorization == "Bearer tok-123456"


def test_a_crawler_is_warned_once_per_host_without_remembering_every_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = authorizer(Answers("store", Found(BearerToken("tok-123456"), "store")))

    with caplog.at_level(logging.WARNING, logger="authadapter"):
        for n in range(2000):
            assert core.decide(f"http://host-{n}.example.org/").authorization is None
        core.decide("http://host-1999.example.org/again")  # remembered: no second warning
        core.decide("http://host-0.example.org/again")  # forgotten long ago: warned again

    warned = [r.getMessage().split()[4] for r in caplog.records]
    assert len(warned) == 2001
    assert warned[-1] == "host-0.example.org"


def test_warm_decisions_ask_no_store_until_the_answer_expires() -> None:
    clock = Clock()
    store = Answers("store", Found(BearerToken("tok-123456"), "store", ttl=60))
    core = authorizer(store, clock=clock)

    for path in range(100):
        core.decide(f"https://repo.example.org/{path}")
    clock.now += 61
    core.decide("https://repo.example.org/again")

    assert store.calls == 2
    assert core.chain.stats().lookups == 2


async def test_async_decisions_match_sync_ones() -> None:
    store = Answers("store", Found(CondaToken("ct-123456"), "store"))
    core = authorizer(store)

    sync = core.decide("https://repo.example.org/ch/x.json")
    asynchronous = await core.decide_async("https://repo.example.org/ch/x.json")

    assert sync == asynchronous


# after a rejection ----------------------------------------------------------


def test_a_rejected_credential_is_looked_up_again_and_a_new_one_resent() -> None:
    store = Answers(
        "store",
        Found(BearerToken("old-123456"), "store"),
        Found(BearerToken("new-123456"), "store"),
    )
    core = authorizer(store)
    url = "https://repo.example.org/x"
    sent = core.decide(url)

    retry = core.reconsider(sent, 401, None, url, sent.authorization, replayable=True)

    assert retry is not None
    assert retry.authorization == "Bearer new-123456"
    assert core.decide(url).authorization == "Bearer new-123456"


@pytest.mark.parametrize(
    ("status", "www_authenticate", "replayable", "resent"),
    [
        (401, None, True, True),
        (403, 'Bearer error="invalid_token"', True, True),
        (403, None, True, False),  # "not allowed": a fresh lookup would not change that
        (404, None, True, False),
        (401, None, False, False),  # a body that cannot be sent twice
    ],
)
def test_which_rejections_earn_a_resend(
    status: int, www_authenticate: str | None, replayable: bool, resent: bool
) -> None:
    store = Answers(
        "store",
        Found(BearerToken("old-123456"), "store"),
        Found(BearerToken("new-123456"), "store"),
    )
    core = authorizer(store)
    url = "https://repo.example.org/x"
    sent = core.decide(url)

    retry = core.reconsider(sent, status, www_authenticate, url, sent.authorization, replayable)

    assert (retry is not None) is resent


def test_the_same_credential_again_is_not_resent() -> None:
    store = Answers("store", Found(BearerToken("same-123456"), "store"))
    core = authorizer(store)
    url = "https://repo.example.org/x"
    sent = core.decide(url)

    assert core.reconsider(sent, 401, None, url, sent.authorization, True) is None
    assert store.calls == 2  # it was asked again, and said the same


def test_a_401_after_a_transient_miss_earns_one_fresh_lookup_per_interval() -> None:
    """A store briefly unreadable cached "nothing"; the 401 that follows finds the credential."""
    clock = Clock()
    store = Answers("store", Miss(), Found(BearerToken("back-123456"), "store"))
    core = authorizer(store, clock=clock, negative_ttl=300)
    url = "https://repo.example.org/x"
    sent = core.decide(url)
    assert sent.authorization is None

    retry = core.reconsider(sent, 401, None, url, None, True)

    assert retry is not None
    assert retry.authorization == "Bearer back-123456"


def test_401s_on_requests_that_carried_nothing_are_rate_limited() -> None:
    clock = Clock()
    store = Answers("store", Miss())
    core = authorizer(store, clock=clock, negative_ttl=300, failure_ttl=30)
    url = "https://public.example.org/x"
    sent = core.decide(url)

    for _ in range(50):
        assert core.reconsider(sent, 401, None, url, None, True) is None
    calls_within_the_interval = store.calls
    clock.now += 31
    core.reconsider(sent, 401, None, url, None, True)

    assert calls_within_the_interval == 2  # the first request, and one fresh lookup
    assert store.calls == 3


def test_a_rejection_from_another_origin_gets_that_origins_own_credential() -> None:
    class PerHost(Provider):
        name = "per-host"

        def lookup(self, origin: Origin, url: str) -> LookupResult:
            return Found(BearerToken(f"for-{origin.host.split('.')[0]}-123456"), "per-host")

    core = authorizer(PerHost())
    sent = core.decide("https://first.example.org/x")

    retry = core.reconsider(sent, 401, None, "https://second.example.org/y", None, True)

    assert retry is not None
    assert retry.authorization == "Bearer for-second-123456"


def test_a_rejected_conda_url_is_resent_with_the_new_token_only() -> None:
    store = Answers(
        "store", Found(CondaToken("old-123456"), "store"), Found(CondaToken("new-123456"), "store")
    )
    core = authorizer(store)
    sent = core.decide("https://conda.example.org/ch/x.json")
    assert sent.url is not None

    retry = core.reconsider(sent, 401, None, sent.url, None, True)

    assert retry is not None
    assert retry.url == "https://conda.example.org/t/new-123456/ch/x.json"


# explaining -----------------------------------------------------------------


def test_explain_asks_everyone_and_marks_the_first_found() -> None:
    providers = [
        Answers("a", Miss()),
        Answers("b", Failure("broken file")),
        Answers("c", Found(BearerToken("first-123"), "c-source")),
        Answers("d", Found(BearerToken("second-123"), "d-source")),
    ]

    explanation = authorizer(*providers).explain("https://repo.example.org/x")

    assert [a.provider for a in explanation.answers] == ["a", "b", "c", "d"]
    assert explanation.used is explanation.answers[2]
    assert explanation.decision.authorization == "Bearer first-123"
    assert all(p.calls == 1 for p in providers)


def test_explain_marks_nothing_after_a_fatal_failure() -> None:
    providers = [
        Answers("plugin", Failure("plugin broke its protocol", fatal=True)),
        Answers("file", Found(BearerToken("never-used-1"), "file")),
    ]

    explanation = authorizer(*providers).explain("https://repo.example.org/")

    assert explanation.used is None
    assert explanation.sends is None


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("https://repo.example.org/x", False),
        ("https://user:pw-123456@repo.example.org/x", True),
        ("https://repo.example.org/t/own-123456/x", True),
    ],
)
def test_explain_notices_urls_with_their_own_credentials(url: str, carries: bool) -> None:
    assert authorizer().explain(url).url_has_credentials is carries


@pytest.mark.parametrize(
    ("url", "allow", "plain_http", "sent"),
    [
        ("https://repo.example.org/x", (), None, True),
        ("http://repo.example.org/x", (), "refused", False),
        ("http://repo.example.org/x", ("REPO.example.org",), "allowed", True),
        ("http://127.0.0.1:8080/x", (), None, True),
        ("https://user:pw-123456@repo.example.org/x", (), None, False),
    ],
)
def test_explain_says_whether_the_chosen_credential_is_really_sent(
    url: str, allow: tuple[str, ...], plain_http: str | None, sent: bool
) -> None:
    store = Answers("file", Found(BearerToken("chosen-123456"), "file"))

    explanation = authorizer(store, allow_http_hosts=allow).explain(url)

    assert explanation.plain_http == plain_http
    assert explanation.used is explanation.answers[0]
    assert (explanation.sends is explanation.answers[0]) is sent


def test_explain_and_decide_agree_for_every_kind_of_url() -> None:
    store = Answers("file", Found(CondaToken("ct-123456"), "file"))
    core = authorizer(store, allow_http_hosts=["mirror.example.org"])
    for url in [
        "https://conda.example.org/ch/x.json",
        "http://conda.example.org/ch/x.json",
        "http://mirror.example.org/ch/x.json",
        "https://conda.example.org/t/own-123456/ch/x.json",
        "http://127.0.0.1:9/ch/x.json",
    ]:
        assert core.explain(url).decision == core.decide(url), url


# copies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_copy", [copy.copy, copy.deepcopy, lambda a: pickle.loads(pickle.dumps(a))]
)
def test_a_copy_carries_the_configuration_and_looks_up_afresh(make_copy: object) -> None:
    store = Answers("store", Found(BearerToken("tok-123456"), "store"))
    core = authorizer(store, ttl=42, allow_http_hosts=["mirror.example.org"])
    core.decide("https://repo.example.org/x")

    clone = make_copy(core)  # type: ignore[operator]

    assert clone.settings == core.settings
    assert clone.chain.stats().cached_origins == 0
    assert clone.decide("http://mirror.example.org/x").authorization == "Bearer tok-123456"


def test_the_bytes_of_a_copy_hold_no_secret_it_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "env-secret-98765"
    monkeypatch.setenv(
        "AUTHADAPTER_CREDENTIALS", f'{{"repo.example.org": {{"BearerToken": "{secret}"}}}}'
    )
    core = Authorizer(config=False, order=["env"])
    assert core.decide("https://repo.example.org/x").authorization == f"Bearer {secret}"

    data = pickle.dumps(core)
    monkeypatch.delenv("AUTHADAPTER_CREDENTIALS")

    assert secret.encode() not in data
    assert pickle.loads(data).decide("https://repo.example.org/x").authorization is None


def test_a_provider_that_cannot_be_copied_says_so() -> None:
    class Unpicklable(Provider):
        name = "in-memory-vault"

        def __init__(self) -> None:
            self.handle = lambda: None

        def lookup(self, origin: Origin, url: str) -> LookupResult:
            return Miss()

    with pytest.raises(TypeError, match="in-memory-vault"):
        pickle.dumps(authorizer(Unpicklable()))
