"""The gazetteer: current names, short forms, and no matches inside ordinary words."""

from __future__ import annotations

from parsers.regions import ArticleRegion, article_region, find_places, place_by_name


def test_cities_belong_to_their_province() -> None:
    assert place_by_name("淄博").province == "山东省"  # type: ignore[union-attr]
    assert place_by_name("张家港市").city == "苏州市"  # type: ignore[union-attr]
    assert place_by_name("恩施").name == "恩施土家族苗族自治州"  # type: ignore[union-attr]
    assert place_by_name("吉林").name == "吉林省"  # type: ignore[union-attr]


def test_words_that_contain_place_names_are_not_places() -> None:
    assert find_places("聚焦作用发挥,长治久安,朝阳产业,三明治") == []


def test_article_region_prefers_the_dominant_city_only_when_the_article_is_about_it() -> None:
    assert article_region("苏州社会组织高质量发展", "苏州市民政局……苏州……江苏") == ArticleRegion("江苏省", "苏州市")
    assert article_region("江苏打造品牌", "江苏……南京推出……南通探索……泰州实施") == ArticleRegion("江苏省")
    assert article_region("", "没有地名的文字") == ArticleRegion()


def test_county_articles_and_national_articles() -> None:
    county = article_region("惠水县民政局2024年工作总结", "惠水县……惠水县……全县……黔南州")
    assert (county.province, county.city, county.county) == ("贵州省", "黔南布依族苗族自治州", "惠水县")
    assert county.most_specific == "惠水县"
    national = article_region("全国社会组织发展统计", "全国共有社会组织……全国……广东、江苏分别为……")
    assert national.is_national and national.province is None and national.most_specific == "全国"
