"""Floodlight 1.2's ACL URLs (/wm/acl/...): a route table of pure handlers that decode, call the ACL app
(apps/acl.py), reply.

Replies as Floodlight 1.2's ACLRuleResource and ClearACRulesResource gave them: the rule list, its hand-built
success strings, and 204 for a clear. Where Floodlight answered 200 with a "Failed! ..." status, the request
changed nothing and here gets an honest 4xx with the JSON reason (docs/compatibility.md): 400 for a rule that
does not parse, 409 for a rule inside an existing rule's scope, 404 for the delete of an unknown rule.
"""
from controller.acl import AclConflict, AclFull, AclRuleError, parse_delete, parse_rule
from rest import floodlight
from rest.http import HttpError, Reply, Route
from rest.staticflow import store_refusal

RULES_URL = '/wm/acl/rules/json'
CLEAR_URL = '/wm/acl/clear/json'
RULE_ADDED = floodlight.status_body('Success! New rule added.')
RULE_DELETED = floodlight.status_body('Success! Rule deleted')


def _acl_call(method, *args):
    """app.<method>(*args), its refusals as the HTTP errors they are for the client."""
    try:
        return method(*args)
    except AclRuleError as error:
        raise floodlight.FlowValidationError(error.reason, error.key) from None
    except AclConflict as error:
        raise HttpError(409, str(error)) from None
    except AclFull as error:
        raise HttpError(507, str(error)) from None
    except Exception as error:
        refusal = store_refusal(error)
        if refusal is error:
            raise
        raise refusal from None


def _document(request):
    return floodlight.decode_body(request.body)


def list_rules(app, request):
    return [rule.to_json() for rule in app.state.listed()]


def add_rule(app, request):
    _acl_call(lambda: app.add_rule(parse_rule(_document(request))))
    return RULE_ADDED


def remove_rule(app, request):
    rule_id = _acl_call(parse_delete, _document(request))
    if rule_id not in app.state.rules:
        raise HttpError(404, "a rule with this ID doesn't exist: %d" % rule_id)
    _acl_call(app.remove_rule, rule_id)
    return RULE_DELETED


def clear_rules(app, request):
    _acl_call(app.clear)
    return Reply(204, None)


ROUTES = [
    Route(('GET',), RULES_URL, list_rules),
    Route(('POST',), RULES_URL, add_rule),
    Route(('DELETE',), RULES_URL, remove_rule),
    Route(('GET',), CLEAR_URL, clear_rules),
]
