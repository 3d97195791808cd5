"""Search everywhere: the header's box, the results page grouped by project, marks, jumps to
a task by number, visibility, stemming and Chinese."""

from __future__ import annotations

import pytest

from taskdesk.domain.comments import add_comment


@pytest.fixture
def shared(factory, world):
    """An internal project every signed-in person sees, beside the world's private Apollo."""
    return factory.project(world.admin, slug="website", name="Website", visibility="internal")


def _hits(response):
    return [(li.select_one(".search-hit__title").get_text(), li.find_parent("section")
             .select_one("h2").get_text().strip()) for li in response.html.select(".search-hit")]


def test_results_are_grouped_by_project_with_marked_matches(testapp, login_as, world,
                                                            make_task, shared):
    make_task(world.project, world.manager, title="Migrate the billing database")
    make_task(world.project, world.manager, title="Login page",
              description="Plan the migration of <b>old</b> accounts & logins.")
    make_task(shared, world.admin, title="Database migration guide")
    make_task(shared, world.admin, title="Unrelated work")
    login_as("manny")
    response = testapp.get("/search", params={"q": "migrating"})
    groups = [h2.get_text().strip() for h2 in response.html.select(".search-group h2")]
    assert groups == ["Apollo", "Website"]
    assert _hits(response) == [("Login page", "Apollo"),
                               ("Migrate the billing database", "Apollo"),
                               ("Database migration guide", "Website")]
    titles = [str(a) for a in response.html.select(".search-hit__title")]
    assert "<mark>Migrate</mark> the billing database" in titles[1]
    excerpt = response.html.select_one(".search-hit__excerpt")
    # Escaped first, then marked: the description's markup is text, never a tag.
    assert "In the description:" in excerpt.get_text()
    assert "Plan the <mark>migration</mark> of &lt;b&gt;old&lt;/b&gt; accounts &amp; logins." \
        in excerpt.decode_contents()
    assert excerpt.find("b") is None


def test_a_match_in_a_comment_shows_the_comment(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Quarterly report")
    add_comment(dbsession, task, world.member, {"body": "We should deploy it on Friday."})
    dbsession.flush()
    login_as("manny")
    response = testapp.get("/search", params={"q": "deploying"})
    excerpt = response.html.select_one(".search-hit__excerpt")
    assert "In a comment:" in excerpt.get_text()
    assert "<mark>deploy</mark>" in excerpt.decode_contents()


@pytest.mark.parametrize(("query", "title"), [
    ("migrations", "Data migration"),     # stemmed: migrat
    ("migratio", "Data migration"),       # a typed prefix of the word, not of its stem
    ("log", "Login form"),                # a prefix
    ("logging", "Log rotation"),          # stemmed: log
    ("数据", "迁移数据库"),                 # Chinese: characters side by side
    ("数据库迁移", "数据库迁移方案"),
])
def test_words_match_their_variations_and_chinese(testapp, login_as, world, make_task,
                                                  query, title):
    for each in ("Data migration", "Login form", "Log rotation", "迁移数据库", "数据库迁移方案",
                 "Something else"):
        make_task(world.project, world.manager, title=each)
    login_as("mia")
    found = [title for title, _project in _hits(testapp.get("/search", params={"q": query}))]
    assert title in found
    assert "Something else" not in found


def test_chinese_matches_are_marked(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="迁移数据库")
    login_as("mia")
    response = testapp.get("/search", params={"q": "数据"})
    assert "迁移<mark>数据</mark>库" in str(response.html.select_one(".search-hit__title"))


def test_an_outsider_never_sees_a_hidden_project(testapp, login_as, world, make_task, shared,
                                                 dbsession):
    secret = make_task(world.project, world.manager, title="Secret migration",
                       description="Rotate the vault keys during the migration.")
    add_comment(dbsession, secret, world.member, {"body": "migration window is Sunday"})
    make_task(shared, world.admin, title="Public migration notes")
    dbsession.flush()
    login_as("olga")
    response = testapp.get("/search", params={"q": "migration"})
    assert _hits(response) == [("Public migration notes", "Website")]
    for hidden in ("Secret", "vault", "Sunday", "Apollo"):
        assert hidden not in response.text
    nothing = testapp.get("/search", params={"q": "vault"})
    assert "Nothing matches vault in the projects you can see." in nothing.text


def test_a_site_admin_finds_everything(testapp, login_as, world, make_task, shared):
    make_task(world.project, world.manager, title="Secret migration")
    make_task(shared, world.admin, title="Public migration notes")
    login_as("ada")
    assert len(_hits(testapp.get("/search", params={"q": "migration"}))) == 2


def test_hash_number_opens_the_task_of_the_current_project(testapp, login_as, world,
                                                           make_task, shared):
    make_task(world.project, world.manager, title="Apollo one")
    make_task(shared, world.admin, title="Website one")
    login_as("manny")
    # The header sends the project of the page it is on.
    page = testapp.get("/projects/apollo/")
    form = page.forms[0]
    assert form.action.endswith("/search")
    assert form["project"].value == "apollo"
    form["q"] = "#1"
    assert form.submit().location.endswith("/projects/apollo/tasks/1")
    response = testapp.get("/search", params={"q": "website#1"})
    assert response.location.endswith("/projects/website/tasks/1")


def test_hash_number_elsewhere_opens_the_one_task_or_offers_the_candidates(
        testapp, login_as, world, make_task, shared):
    make_task(world.project, world.manager, title="Apollo one")
    make_task(world.project, world.manager, title="Apollo two")
    make_task(shared, world.admin, title="Website one")
    login_as("manny")
    only = testapp.get("/search", params={"q": "#2"})
    assert only.location.endswith("/projects/apollo/tasks/2")
    several = testapp.get("/search", params={"q": "#1"})
    assert _hits(several) == [("Apollo one", "Several tasks have this number"),
                              ("Website one", "Several tasks have this number")]
    # An outsider sees one candidate only: Website's.
    login_as("olga")
    assert testapp.get("/search", params={"q": "#1"}).location.endswith(
        "/projects/website/tasks/1")


def test_a_hidden_task_and_a_missing_one_get_the_same_answer(testapp, login_as, world,
                                                             make_task):
    make_task(world.project, world.manager, title="Secret")
    login_as("olga")
    hidden = testapp.get("/search", params={"q": "apollo#1"})
    missing = testapp.get("/search", params={"q": "apollo#99"})
    nowhere = testapp.get("/search", params={"q": "nosuch#1"})
    for response in (hidden, missing, nowhere):
        assert response.status_int == 200
        assert "No such task" in response.html.select_one("p[role=status]").get_text()
    assert "Secret" not in hidden.text
    assert (str(hidden.html.main).replace("apollo#1", "X")
            == str(missing.html.main).replace("apollo#99", "X"))


def test_results_page_by_keyset(testapp, login_as, world, make_task, shared):
    for n in range(20):
        make_task(world.project, world.manager, title=f"Upgrade step {n}")
        make_task(shared, world.admin, title=f"Upgrade note {n}")
    login_as("manny")
    first = testapp.get("/search", params={"q": "upgrade"})
    assert len(_hits(first)) == 30
    second = first.click(linkid=None, href="cursor=")
    assert len(_hits(second)) == 10
    seen = [t for t, _p in _hits(first) + _hits(second)]
    assert len(set(seen)) == 40
    assert not second.html.select("a[rel=next]")
    bad = testapp.get("/search", params={"q": "upgrade", "cursor": "garbage"}, status=400)
    assert "This cursor is not valid for this list." in bad.text


def test_empty_or_punctuation_query_finds_nothing(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="Anything")
    login_as("manny")
    assert not _hits(testapp.get("/search", params={"q": ""}))
    response = testapp.get("/search", params={"q": "!!! ---"})
    assert not _hits(response)


def test_signed_out_visitors_are_sent_to_sign_in(testapp):
    response = testapp.get("/search", params={"q": "x"}, status=(302, 303))
    assert "/login" in response.location


def test_the_header_search_and_shortcuts_dialog_are_translated(testapp, login_as, world):
    login_as("manny")
    english = testapp.get("/")
    assert english.html.select_one("#header-search")
    assert english.html.select_one("dialog#shortcuts h2").get_text() == "Keyboard shortcuts"
    testapp.post("/language", {"locale": "zh_CN", "next": "/",
                               "csrf_token": english.html.select_one(
                                   "meta[name=csrf-token]")["content"]})
    chinese = testapp.get("/")
    assert chinese.html.select_one("dialog#shortcuts h2").get_text() == "键盘快捷键"


def _grow(factory, world, make_task, shared, tasks, projects):
    extra = [world.project, shared] + [
        factory.project(world.manager, slug=f"extra-{n}") for n in range(projects)]
    for n in range(tasks):
        # Matches in titles, descriptions and comments alike.
        task = make_task(extra[n % len(extra)], world.manager,
                         title=f"Release plan {n}" if n % 2 else f"Other {n}",
                         description="about the release" if n % 4 == 2 else "")
        if n % 4 == 0:
            add_comment(factory.dbsession, task, world.member, {"body": "release soon"})
    factory.dbsession.flush()


def test_statement_count_is_constant(testapp, login_as, factory, world, make_task, shared,
                                     count_statements):
    """The test transaction's savepoint and its rollback (2), the identity (1), the bell (1),
    the matching tasks (1), and the comments of the tasks whose title and description do not
    show the match (1): with 3 tasks in 2 projects as with 30 of 40 in 6."""
    login_as("manny")
    path = "/search?q=release"
    counts = []
    for tasks, projects in ((3, 0), (36, 4)):
        _grow(factory, world, make_task, shared, tasks, projects)
        testapp.get(path)
        with count_statements() as statements:
            response = testapp.get(path)
        assert _hits(response)
        counts.append(len(statements))
    assert counts == [6, 6], [s[:60] for s in statements]
