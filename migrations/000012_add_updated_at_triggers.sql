-- +migrate Up
-- Keeps updated_at current on every table that has one.
-- +migrate StatementBegin
CREATE OR REPLACE FUNCTION brokle_set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +migrate StatementEnd

-- +migrate StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organizations', 'users', 'user_sessions', 'organization_members', 'projects',
                             'api_keys', 'gateway_providers', 'gateway_models', 'gateway_routing_rules',
                             'billing_plans', 'subscriptions']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION brokle_set_updated_at()',
                       t || '_set_updated_at', t);
    END LOOP;
END;
$$;
-- +migrate StatementEnd

-- +migrate Down
-- +migrate StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organizations', 'users', 'user_sessions', 'organization_members', 'projects',
                             'api_keys', 'gateway_providers', 'gateway_models', 'gateway_routing_rules',
                             'billing_plans', 'subscriptions']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_set_updated_at', t);
    END LOOP;
END;
$$;
-- +migrate StatementEnd
DROP FUNCTION IF EXISTS brokle_set_updated_at();
