<?php
// The few WordPress functions docs/recipes/wordpress-comments.php calls, as WordPress defines them
// (https://developer.wordpress.org/reference/functions/), over PHP's curl: enough to run the recipe
// unchanged against the live service. The article is given by the environment.
class WP_Error {
    public $message;
    public function __construct($code, $message) { $this->message = $message; }
}

function is_wp_error($thing) { return $thing instanceof WP_Error; }

function wp_remote_get($url, $args = array()) {
    $curl = curl_init($url);
    curl_setopt_array($curl, array(
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => isset($args['timeout']) ? $args['timeout'] : 5,
        CURLOPT_CONNECTTIMEOUT => isset($args['timeout']) ? $args['timeout'] : 5,
    ));
    $body = curl_exec($curl);
    if ($body === false) {
        return new WP_Error('http_request_failed', curl_error($curl));
    }
    return array('body' => $body, 'response' => array('code' => curl_getinfo($curl, CURLINFO_RESPONSE_CODE)));
}

function wp_remote_retrieve_response_code($response) { return is_wp_error($response) ? '' : $response['response']['code']; }
function wp_remote_retrieve_body($response) { return is_wp_error($response) ? '' : $response['body']; }

// WordPress's add_query_arg does not encode the values it is given: callers encode them.
function add_query_arg($args, $url) {
    $pairs = array();
    foreach ($args as $key => $value) { $pairs[] = $key . '=' . $value; }
    return $url . (strpos($url, '?') === false ? '?' : '&') . implode('&', $pairs);
}

function wp_parse_url($url, $component = -1) { return parse_url($url, $component); }
function get_permalink() { return getenv('ARTICLE_URL'); }
function get_the_title() { return getenv('ARTICLE_TITLE'); }
function get_locale() { return getenv('ARTICLE_LOCALE'); }
function esc_attr($text) { return htmlspecialchars($text, ENT_QUOTES); }
function esc_url($url) { return htmlspecialchars($url, ENT_QUOTES); }

$recipe = file_get_contents($argv[1]);
$recipe = str_replace("'https://comments.example'", var_export(getenv('COMMENTS_ORIGIN'), true), $recipe);
eval('?>' . $recipe);
