"""The mechanisms the rules keep, on messages of their own: department boundaries, mentions,
forwarding, keywords and location, negated resolutions, hiding, quoted replies. (The
hand-written cases that used to be tested one by one are training data now: nlp/corpus/.)"""

import pytest


@pytest.mark.parametrize(
    ("text", "department"),
    [
        # boundary rules of departments.yaml
        ("小区里有人把电动车推进楼道飞线充电", "fire"),  # not power
        ("消防栓一打开一滴水都没有", "fire"),  # not water
        ("楼下下水道堵了，污水漫出来", "urban_mgmt"),  # not water
        ("路灯坏了好几天了", "urban_mgmt"),  # not power
        ("电梯困人了，里面有个老人", "market"),  # not housing
        ("学校食堂的饭菜吃了好多学生拉肚子", "education"),  # not market
        ("邻居两口子在吵架，吵了一晚上，请社区来劝劝", "justice"),  # not police
        ("隔壁厂房里的液化气罐漏气了，味道很大", "emergency"),  # not fire
        ("农村有人占用耕地建房", "land"),  # not urban_mgmt
        ("渣土车撒了一路泥巴", "urban_mgmt"),
    ],
)
def test_boundary_rules(classifier, text, department):
    assert classifier.classify(text).department == department


def test_mention_prefixes_are_ignored(classifier):
    plain = classifier.classify("村口的井盖不见了")
    for text in ("@网格员小王 村口的井盖不见了", "@社区刘主任\u2005村口的井盖不见了", "@张三 @李四 村口的井盖不见了"):
        result = classifier.classify(text)
        assert (result.is_issue, result.department) == (plain.is_issue, plain.department) == (True, "urban_mgmt")


def test_forwarded_notice_stays_a_notice(classifier):
    assert not classifier.classify("【转发】关于开展燃气安全检查的通知").is_issue
    assert classifier.classify("【转发】幸福小区5栋楼下燃气管道漏气了，味道很大").department == "emergency"


def test_keywords_and_location(classifier):
    result = classifier.classify("幸福小区3栋2单元楼道里有人飞线充电")
    assert result.department == "fire"
    assert "飞线充电" in result.keywords
    assert result.location == "幸福小区3栋2单元"
    assert classifier.classify("上坪村4组的电线杆歪了，快倒了").location == "上坪村4组"
    assert classifier.classify("人民路那几盏路灯不亮了").location == "人民路"
    assert classifier.classify("又停电了").location is None


@pytest.mark.parametrize(
    ("solved", "negated", "department"),
    [
        ("水来了，谢谢", "三天没来水了，老人上厕所都没法冲", "water"),
        ("路灯已经修好了", "路灯到现在还没修好，晚上黑漆漆的", "urban_mgmt"),
        ("停电的事已经解决了", "停电的事一直没解决", "power"),
    ],
)
def test_a_negated_resolution_is_a_problem(classifier, solved, negated, department):
    assert not classifier.classify(solved).is_issue
    result = classifier.classify(negated)
    assert (result.is_issue, result.department) == (True, department)


def test_a_not_a_problem_phrase_hides_the_words_inside_it(classifier):
    # 防溺水 is a slogan: the 溺水 inside it is neither an emergency nor urgent
    assert not classifier.classify("防溺水！防溺水！防溺水！重要的事情说三遍").is_issue
    assert classifier.classify("有个小孩在水库溺水了，快来人").urgency == "urgent"


QUOTE_RULE = "\n- - - - - - - - - - - - - - -\n"


@pytest.mark.parametrize(
    ("text", "department"),
    [
        # the reply decides; the quoted problem does not make "收到" a report
        ("「李姐：我们楼下的路灯又不亮了」" + QUOTE_RULE + "收到，已经报给城管了", None),
        ("「王师傅：3栋停水了吗？」" + QUOTE_RULE + "我家有水啊", None),
        ("「赵大爷：下水道堵了好几天了」" + QUOTE_RULE + "师傅上午来通好了，谢谢", None),
        # a quoted "solved" update does not hide a reply that says it is not
        ("「网格员小王：水已经恢复了」" + QUOTE_RULE + "我家到现在还是没水啊", "water"),
        # "me too" borrows the quoted subject
        ("「李姐：我们楼下的路灯又不亮了」" + QUOTE_RULE + "我们这边也是，整条街都黑的", "urban_mgmt"),
        # a reply naming its own problem is judged on its own
        ("「陈书记：本周开展燃气安全检查」" + QUOTE_RULE + "我家楼下燃气表一直有股味道", "emergency"),
    ],
)
def test_quoted_replies_are_judged_on_the_reply(classifier, text, department):
    result = classifier.classify(text)
    assert result.department == department
    assert result.is_issue is (department is not None)
    if department is not None:
        assert classifier.route(text) == department


def test_a_mention_without_a_space_does_not_swallow_the_report(classifier):
    for text in ("@小王路灯坏了好几天了", "回复@网格员小王：水龙头出来的水还是黄的"):
        assert classifier.classify(text).is_issue, text
    assert classifier.classify("@网格员小王：路灯坏了好几天了").department == "urban_mgmt"


def test_things_counted_or_passed_by_are_no_places(classifier):
    """那几盏路灯 is no place named 几盏路: a place is a real place phrase, so two reports of the
    same lamps can join one ticket."""
    for text in ("小区门口那几盏路灯晚上不亮", "那几盏路灯又坏了", "这几条街的垃圾好几天没人收了",
                 "回家路上的井盖没了，晚上容易摔", "小区门口路灯坏了好几天了", "前面那段路塌了一个大坑",
                 "好几根路灯杆歪了，快倒了", "那几盏街灯也不亮"):
        result = classifier.classify(text)
        assert result.is_issue and result.location is None, (text, result.location)


def test_real_place_phrases_are_found(classifier):
    cases = {"我们5栋也停电了": "5栋", "城南社区广场的健身器材坏了": "城南社区",
             "幸福小区3单元门口的下水道堵了，污水往外冒": "幸福小区3单元", "人民路口的红绿灯坏了": "人民路",
             "解放街的下水道堵了，污水往外冒": "解放街"}
    for text, place in cases.items():
        assert classifier.classify(text).location == place, text
