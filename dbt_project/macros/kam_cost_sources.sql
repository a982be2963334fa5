{# Generated from sources/*.yml by kam; do not edit. #}
{% macro kam_cost_sources() %}
    {{ return(fromjson("[{\"name\": \"marketing_bookings\", \"model\": \"stg_cost__marketing_bookings\", \"allocation\": \"direct\"}, {\"name\": \"service_logs\", \"model\": \"stg_cost__service_logs\", \"allocation\": \"direct\"}, {\"name\": \"visit_costs\", \"model\": \"stg_cost__visit_costs\", \"allocation\": \"direct\"}]")) }}
{% endmacro %}
